"""What the exports read: finalized invoices, credit notes and payments of a period, in a stable order, with the
receivables ledger's figures (billing.selectors.receivables: the one definition of paid, credited and due)."""

from __future__ import annotations

from datetime import date

from django.db.models import F, Min, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing.models import CreditNote, EntryKind, Invoice, InvoicePayment, InvoiceStatus, ReceivableEntry
from billing.selectors.receivables import MONEY_OUTPUT, with_figures


def invoices_issued(*, start: date, end: date) -> QuerySet[Invoice]:
    """Invoices issued from `start` to `end`, both included, in number order (drafts have no issue date)."""
    queryset = (
        Invoice.objects.filter(issue_date__gte=start, issue_date__lte=end)
        .exclude(status=InvoiceStatus.DRAFT)
        .only("number", "sequence", "status", "currency", "issue_date", "due_date", "total", "snapshot")
        .order_by("issue_date", "sequence", "id")
    )
    return with_figures(queryset)


def credit_notes_issued(*, start: date, end: date) -> QuerySet[CreditNote]:
    return (
        CreditNote.objects.filter(issue_date__gte=start, issue_date__lte=end)
        .only("number", "sequence", "currency", "issue_date", "total", "reason", "snapshot", "invoice_id")
        .order_by("issue_date", "sequence", "id")
    )


def payments_received(*, start: date, end: date) -> QuerySet[InvoicePayment]:
    """Payments received from `start` to `end` (their payment date), each with the part applied to its invoice and
    the date it was reversed, from the ledger, as the invoice page reads them (billing.selectors.invoices)."""
    entries = ReceivableEntry.objects.filter(payment=OuterRef("pk")).order_by().values("payment")
    applied = entries.filter(kind=EntryKind.PAYMENT_APPLIED, invoice=OuterRef("invoice_id")).annotate(s=Sum("amount"))
    reversed_on = entries.filter(kind=EntryKind.PAYMENT_REVERSED).annotate(d=Min("effective_on"))
    return (
        InvoicePayment.objects.filter(paid_on__gte=start, paid_on__lte=end)
        .annotate(
            invoice_number=F("invoice__number"),
            buyer_name=F("invoice__snapshot__buyer__name"),
            buyer_vat=F("invoice__snapshot__buyer__vat_number"),
            applied=-Coalesce(
                Subquery(applied.values("s"), output_field=MONEY_OUTPUT),
                Value(0),
                output_field=MONEY_OUTPUT,
            ),
            reversed_on=Subquery(reversed_on.values("d")),
        )
        .order_by("paid_on", "id")
    )
