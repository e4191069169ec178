"""The documents in billing whose lines the line item editor edits: deals and invoices. Registered from billing's
AppConfig (billing.editor.register_owner_kind)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from billing.editor import OwnerKind, company_currency
from billing.models import Invoice
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
