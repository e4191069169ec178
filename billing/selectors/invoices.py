"""Reads of the invoice pages: one invoice with what its page shows, and its printable document made readable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from billing.models import CreditNote, Invoice, InvoiceEvent, InvoicePayment, PaymentMethod
from billing.selectors.invoice_balances import DISPLAY_STATUS_LABELS, Balance, display_status, invoice_balance

STATUS_BADGES = {
    "draft": "badge-muted",
    "open": "stage-open",
    "partially_paid": "stage-open",
    "overdue": "stage-lost",
    "paid": "badge-ok",
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
    balance: Balance
    status: str
    badge: str
    payments: list[InvoicePayment]
    credit_notes: list[CreditNote]
    events: list[InvoiceEvent]
    days_overdue: int


def invoice_page(invoice: Invoice) -> InvoicePage:
    balance = invoice_balance(invoice)
    status = display_status(invoice, balance)
    today = timezone.localdate()
    days = (today - invoice.due_date).days if status == "overdue" else 0
    return InvoicePage(
        invoice=invoice,
        balance=balance,
        status=status,
        badge=STATUS_BADGES.get(status, ""),
        payments=list(InvoicePayment.objects.filter(invoice=invoice).select_related("recorded_by")),
        credit_notes=list(CreditNote.objects.filter(invoice=invoice)),
        events=list(InvoiceEvent.objects.filter(invoice=invoice).select_related("actor").order_by("-at", "-id")),
        days_overdue=days,
    )


def status_label(status: str) -> str:
    return str(DISPLAY_STATUS_LABELS.get(status, status))


def invoice_by_token(token: str) -> Invoice | None:
    """The finalized invoice behind a hosted page link; None for anything else (drafts have no token)."""
    if not token or len(token) != 43 or not all(c.isalnum() or c in "-_" for c in token) or not token.isascii():
        return None
    return Invoice.objects.filter(public_token=token).exclude(status="draft").first()
