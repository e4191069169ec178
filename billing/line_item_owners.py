"""The documents in billing whose lines the line item editor edits: deals, invoices and quotes. Registered from
billing's AppConfig and its feature modules (billing.editor.register_owner_kind)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from billing.editor import OwnerKind, company_currency
from billing.models import Invoice, Quote
from billing.services.quote_records import quote_status_message
from crm.models import Deal


def deal_currency(deal: Deal) -> str:
    """The deal's currency sets its lines' currency; a deal without one uses the company's default currency."""
    return str(deal.amount_currency or "") or company_currency()


DEAL = OwnerKind(
    kind="deal",
    model=Deal,
    column="deal",
    view_perm="accounts.view_crm",
    edit_perm="accounts.edit_crm",
    detail_url=lambda deal: reverse("crm:deal_detail", args=[deal.pk]),
    title=lambda deal: deal.name,
    currency=deal_currency,
    active_nav="deals",
)

INVOICE = OwnerKind(
    kind="invoice",
    model=Invoice,
    column="invoice",
    view_perm="accounts.view_invoices",
    edit_perm="accounts.edit_invoices",
    detail_url=lambda invoice: reverse("billing:invoice_detail", args=[invoice.pk]),
    title=lambda invoice: str(invoice),
    currency=lambda invoice: invoice.currency,
    locked_reason=lambda invoice: (
        ""
        if invoice.status == "draft"
        else _("Invoice %(number)s is finalized: its lines cannot change.") % {"number": invoice.number}
    ),
    active_nav="invoices",
)


def _quote_lines_changed(quote: Quote, actor) -> None:
    from billing.services.quotes import quote_lines_changed

    quote_lines_changed(quote=quote, actor=actor)


def _quote_page(quote: Quote) -> str:
    """Where the editor's page leads back to: the builder's line items step while the quote can change, else its
    record page."""
    if quote.is_editable:
        return reverse("billing:quote_step", args=[quote.pk, "lines"])
    return reverse("billing:quote_detail", args=[quote.pk])


QUOTE = OwnerKind(
    kind="quote",
    model=Quote,
    column="quote",
    view_perm="accounts.view_quotes",
    edit_perm="accounts.edit_quotes",
    detail_url=_quote_page,
    title=lambda quote: quote.title or str(quote),
    currency=lambda quote: quote.currency,
    # A published quote's lines are what the buyer saw and signs: unpublishing (a new revision) unlocks them.
    locked_reason=lambda quote: "" if quote.is_editable else quote_status_message(quote),
    active_nav="quotes",
    on_lines_changed=_quote_lines_changed,
)
