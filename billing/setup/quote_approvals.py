"""Approvals, templates and settings of quotes: the Settings → Quotes tab and the permission to approve quotes."""

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Called once from BillingConfig.ready()."""
    from commerce_hub import registry

    # Admins hold every permission; no other role approves quotes unless a person is given the permission.
    registry.register_permissions("billing", [("approve_quotes", "Approve or reject quotes that need approval", ())])
    registry.register_settings_tab(
        key="quotes",
        label=_("Quotes"),
        order=85,
        url_name="billing:quote_settings",
        permission="accounts.manage_settings",
    )
