from commerce_hub.accounts.models.audit import AuditEntry
from commerce_hub.accounts.models.invitations import Invitation
from commerce_hub.accounts.models.users import Capability, Role, User

__all__ = ["AuditEntry", "Capability", "Invitation", "Role", "User"]
