"""Everything the exports add to the platform and to billing, called from IntegrationsConfig.ready()."""

from __future__ import annotations

import logging

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

logger = logging.getLogger(__name__)


def _pdf_attachments(document) -> list:
    """The UBL XML embedded in a finalized invoice's or a credit note's PDF, when the tenant chose it. A document
    that cannot be a valid e-invoice gets a PDF without it (and the log says why), never no PDF at all."""
    from billing.models import CreditNote
    from integrations.exports.ubl import UblError, credit_note_ubl, export_settings_get, invoice_ubl, ubl_file_name

    settings = export_settings_get()
    if not settings.embed_ubl_in_pdf:
        return []
    is_note = isinstance(document, CreditNote)
    try:
        data = credit_note_ubl(document, settings=settings) if is_note else invoice_ubl(document, settings=settings)
    except UblError as exc:
        logger.warning("No e-invoice embedded in %s: %s", document.number, exc)
        return []
    kind = "credit-note" if is_note else "invoice"
    return [(ubl_file_name(document.number, kind), data, "application/xml", "UBL 2.1 / Peppol BIS Billing 3.0")]


def _invoice_action(request, invoice):
    if invoice.is_draft or not request.user.has_perm("accounts.view_invoices"):
        return None
    return _("E-invoice (UBL)"), reverse("exports:invoice_ubl", args=[invoice.pk])


def _credit_note_action(request, note):
    if not request.user.has_perm("accounts.view_invoices"):
        return None
    return _("E-invoice (UBL)"), reverse("exports:credit_note_ubl", args=[note.pk])


def register() -> None:
    from billing.pdf_attachments import register_pdf_attachments
    from billing.record_actions import register_credit_note_action, register_invoice_action
    from commerce_hub import registry

    registry.register_urls("integrations/exports/", "integrations.exports.urls")
    registry.register_nav_entry(
        key="exports",
        label=gettext_lazy("Exports"),
        section="commerce",
        order=90,
        targets=[("accounts.view_invoices", "exports:index"), ("accounts.view_payments", "exports:index")],
    )
    registry.register_settings_tab(
        key="exports",
        label=gettext_lazy("E-invoicing"),
        order=93,  # after Payments, before Exact Online
        url_name="exports:settings",
        permission="accounts.manage_settings",
    )
    register_pdf_attachments(_pdf_attachments)
    register_invoice_action(_invoice_action)
    register_credit_note_action(_credit_note_action)
