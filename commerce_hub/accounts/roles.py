"""Roles and the permissions each one grants.

Permissions are ordinary Django permissions (`accounts.<codename>`, rows on the Capability model), so views check
them with `user.has_perm` and a single user can be granted one more through `user_permissions`. A role is a named
set of them, kept here in code so that a new permission reaches every tenant with a deploy, not a data migration.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

PERMISSIONS: list[tuple[str, str]] = [
    ("view_crm", "View contacts, companies and deals"),
    ("edit_crm", "Create and edit contacts, companies and deals"),
    ("delete_crm", "Delete contacts, companies and deals"),
    ("import_crm", "Import CRM records"),
    ("export_data", "Export index views"),
    ("view_products", "View the product library"),
    ("manage_products", "Create and edit products and folders"),
    ("view_quotes", "View quotes"),
    ("edit_quotes", "Create and edit quotes"),
    ("view_invoices", "View invoices"),
    ("create_invoices", "Create invoices"),
    ("edit_invoices", "Edit, finalize and void invoices"),
    ("create_custom_line_items", "Create custom line items"),
    ("view_payments", "View payments and payouts"),
    ("manage_payments", "Record and manage payments"),
    ("manage_refunds", "Issue refunds"),
    ("view_subscriptions", "View subscriptions"),
    ("manage_subscriptions", "Manage subscriptions"),
    ("view_reports", "View reports"),
    ("manage_settings", "Manage company settings and branding"),
    ("manage_users", "Invite, deactivate and assign roles to users"),
    ("view_audit_log", "View the audit log and event deliveries"),
]
ALL_CODENAMES = frozenset(code for code, _label in PERMISSIONS)


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    SALES = "sales", _("Sales")
    FINANCE = "finance", _("Finance")
    READ_ONLY = "read_only", _("Read-only")


_READ = {
    "view_crm",
    "view_products",
    "view_quotes",
    "view_invoices",
    "view_payments",
    "view_subscriptions",
    "view_reports",
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: ALL_CODENAMES,
    Role.SALES: frozenset(_READ | {"edit_crm", "import_crm", "export_data", "edit_quotes", "create_custom_line_items"}),
    Role.FINANCE: frozenset(
        _READ
        | {
            "export_data",
            "manage_products",
            "create_invoices",
            "edit_invoices",
            "create_custom_line_items",
            "manage_payments",
            "manage_refunds",
            "manage_subscriptions",
        }
    ),
    Role.READ_ONLY: frozenset(_READ),
}


def permissions_for_role(role: str) -> frozenset[str]:
    return frozenset(f"accounts.{code}" for code in ROLE_PERMISSIONS.get(role, frozenset()))
