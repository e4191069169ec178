"""Approvals, templates and settings of quotes: the Settings → Quotes tab, the permission to approve quotes, and the
templates' texts for the quote document."""

from django.utils.translation import gettext_lazy as _


def register() -> None:
    """Called once from BillingConfig.ready()."""
    from billing.quote_documents import quote_template_texts_register
    from billing.selectors.quote_templates import quote_template_texts
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
    # The quote document prints the template's texts, and a built-in template's standard texts in its language.
    quote_template_texts_register(quote_template_texts)
