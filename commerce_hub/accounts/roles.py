"""Roles and the permissions each one grants.

Permissions are ordinary Django permissions (`accounts.<codename>`, rows on the Capability model), so views check
them with `user.has_perm` and a single user can be granted one more through `user_permissions`. A role is a named
set of them, kept in code so that a new permission reaches every tenant with a deploy, not a data migration.

The platform's own permissions are listed here. Each app registers the permissions it checks, and which roles grant
them, from its AppConfig (commerce_hub.registry.register_permissions); the role sets below are read from there.
The permission rows are synced after every migrate (commerce_hub.accounts.apps).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SALES = "sales", _("Sales")
    FINANCE = "finance", _("Finance")
    READ_ONLY = "read_only", _("Read-only")


# The platform's permissions: (codename, label, roles that grant it besides Admin).
PLATFORM_PERMISSIONS: list[tuple[str, str, tuple[str, ...]]] = [
    ("export_data", "Export index views", (Role.SALES, Role.FINANCE)),
    ("manage_settings", "Manage company settings and branding", ()),
    ("manage_users", "Invite, deactivate and assign roles to users", ()),
    ("view_audit_log", "View the audit log and event deliveries", ()),
]
# What the Capability model declares itself; the apps' permissions are added by the sync.
PERMISSIONS: list[tuple[str, str]] = [(code, label) for code, label, _roles in PLATFORM_PERMISSIONS]


def all_permissions() -> list[tuple[str, str]]:
    """(codename, label) for every permission: the platform's and every installed app's."""
    from commerce_hub.registry import registered_permissions

    return [(spec.codename, spec.label) for spec in registered_permissions()]


def role_permissions() -> dict[str, frozenset[str]]:
    from commerce_hub.registry import registered_permissions

    specs = registered_permissions()
    grants = {
        role: frozenset(spec.codename for spec in specs if role in spec.roles)
        for role in Role.values
        if role != Role.ADMIN
    }
    return {Role.ADMIN: frozenset(spec.codename for spec in specs), **grants}


def permissions_for_role(role: str) -> frozenset[str]:
    return frozenset(f"accounts.{code}" for code in role_permissions().get(role, frozenset()))


def __getattr__(name):
    # ALL_CODENAMES and ROLE_PERMISSIONS are read when asked for, after every app has registered.
    if name == "ALL_CODENAMES":
        return frozenset(code for code, _label in all_permissions())
    if name == "ROLE_PERMISSIONS":
        return role_permissions()
    raise AttributeError(name)
