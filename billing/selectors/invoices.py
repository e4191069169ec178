"""Reads of the invoice pages: one invoice with what its page shows, and its printable document made readable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from billing.documents import invoice_settings_get
from billing.models import (
    CreditNote,
    EntryKind,
    Invoice,
    InvoiceEvent,
    InvoiceLinkRevoked,
    InvoicePayment,
    PaymentMethod,
    ReceivableEntry,
)
from billing.selectors.receivables import (
    DISPLAY_STATUS_LABELS,
    InvoiceFigures,
    credit_available,
    invoice_account,
    invoice_figures,
)

STATUS_BADGES = {
    "draft": "badge-muted",
    "open": "stage-open",
    "partially_paid": "stage-open",
    "overdue": "stage-lost",
    "paid": "badge-ok",
    "credited": "badge-ok",
    "void": "badge-muted",
    "uncollectible": "badge-muted",
}


def document_for_display(document: dict) -> dict:
    """The stored document (strings) with dates and amounts as the template filters expect them."""
    shown = dict(document)
    for key in ("issue_date", "due_date", "invoice_issue_date"):
        if shown.get(key):
            shown[key] = date.fromisoformat(shown[key])
    methods = dict(PaymentMethod.choices)
    shown["payment_method_labels"] = [methods.get(m, m) for m in document.get("payment_methods", [])]
    shown["has_vat_number"] = bool(document.get("buyer", {}).get("vat_number"))
    return shown


@dataclass
class InvoicePage:
    invoice: Invoice
    balance: InvoiceFigures
    status: str
    badge: str
    payments: list[InvoicePayment]
    credit_notes: list[CreditNote]
    events: list[InvoiceEvent]
    days_overdue: int
    credit_available: Decimal  # the customer's credit in the invoice's currency


def _payments_with_state(invoice: Invoice) -> list[InvoicePayment]:
    """The invoice's payments, each with the part applied to this invoice, the part kept as credit and whether it
    was reversed (from the ledger, in one query)."""
    payments = list(InvoicePayment.objects.filter(invoice=invoice).select_related("recorded_by"))
    entries = ReceivableEntry.objects.filter(payment__in=payments).values("payment_id", "kind", "invoice_id", "amount")
    for payment in payments:
        payment.applied = Decimal(0)
        payment.reversed = False
    by_id = {p.pk: p for p in payments}
    for entry in entries:
        payment = by_id[entry["payment_id"]]
        if entry["kind"] == EntryKind.PAYMENT_REVERSED:
            payment.reversed = True
        elif entry["kind"] == EntryKind.PAYMENT_APPLIED and entry["invoice_id"] == invoice.pk:
            payment.applied -= entry["amount"]
    for payment in payments:
        payment.kept_as_credit = Decimal(0) if payment.reversed else payment.amount - payment.applied
    return payments


def invoice_page(invoice: Invoice) -> InvoicePage:
    figures = invoice_figures(invoice)
    today = timezone.localdate()
    days = (today - invoice.due_date).days if figures.status == "overdue" else 0
    account = invoice_account(invoice) if not invoice.is_draft else None
    return InvoicePage(
        invoice=invoice,
        balance=figures,
        status=figures.status,
        badge=STATUS_BADGES.get(figures.status, ""),
        payments=_payments_with_state(invoice),
        credit_notes=list(CreditNote.objects.filter(invoice=invoice)),
        events=list(InvoiceEvent.objects.filter(invoice=invoice).select_related("actor").order_by("-at", "-id")),
        days_overdue=days,
        credit_available=credit_available(account, invoice.currency) if account else Decimal(0),
    )


def status_label(status: str) -> str:
    return str(DISPLAY_STATUS_LABELS.get(status, status))


def _token_shaped(token: str) -> bool:
    return bool(token) and len(token) == 43 and token.isascii() and all(c.isalnum() or c in "-_" for c in token)


def invoice_by_token(token: str) -> Invoice | None:
    """The finalized invoice behind a live hosted page link; None for anything else (drafts have no token, a
    replaced or expired link opens nothing: see invoice_link_closed)."""
    if not _token_shaped(token):
        return None
    invoice = Invoice.objects.filter(public_token=token).exclude(status="draft").first()
    if invoice is None or invoice_link_expired(invoice):
        return None
    return invoice


def invoice_link_expired(invoice: Invoice, *, now=None) -> bool:
    """Whether the invoice's link has stopped working: paid more than the settings' days ago."""
    if invoice.status != "paid" or invoice.paid_at is None:
        return False  # decided without reading the settings: the checkout of an open invoice reads nothing more
    days = invoice_settings_get().hosted_link_expiry_days
    if not days:
        return False
    return invoice.paid_at + timedelta(days=days) <= (now or timezone.now())


def invoice_link_closed(token: str) -> tuple[Invoice, str] | None:
    """The invoice behind a link that no longer opens it, and why ("revoked" or "expired"), so its page can say so
    and whom to ask; None for a live link or a token that was never an invoice's."""
    if not _token_shaped(token):
        return None
    revoked = InvoiceLinkRevoked.objects.filter(token=token).select_related("invoice").first()
    if revoked is not None:
        return revoked.invoice, "revoked"
    invoice = Invoice.objects.filter(public_token=token).exclude(status="draft").first()
    if invoice is not None and invoice_link_expired(invoice):
        return invoice, "expired"
    return None
