from commerce_hub.accounts.models.audit import AuditEntry
from commerce_hub.accounts.models.invitations import Invitation
from commerce_hub.accounts.models.security import SecurityPolicy, UserSession
from commerce_hub.accounts.models.users import Capability, Role, User

__all__ = ["AuditEntry", "Capability", "Invitation", "Role", "SecurityPolicy", "User", "UserSession"]
