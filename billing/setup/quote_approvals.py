"""Approvals, templates and settings of quotes: the Settings → Quotes tab, the permission to approve quotes, the
templates' texts for the quote document, and the approval section of a quote's record page."""

from django.utils.translation import gettext_lazy as _


def _approval_section(request, quote):
    """The approval section's context; none (no section) while approvals are off and the quote never had one."""
    from billing.selectors.quote_approvals import quote_approval_panel

    panel = quote_approval_panel(quote=quote, user=request.user)
    if not panel["enabled"] and panel["latest"] is None:
        return None
    return panel


def register() -> None:
    """Called once from BillingConfig.ready()."""
    from billing.quote_documents import quote_template_texts_register
    from billing.quote_sections import quote_detail_sections_register
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
    quote_detail_sections_register(
        name="approval", template="billing/quotes/_approval.html", context_fn=_approval_section, order=10
    )
