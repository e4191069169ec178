"""An invoice's balance, always derived: its finalized total minus its credit notes and payments (Kill Bill's
rule). Nothing stores a balance, so nothing can drift from the rows it comes from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import DecimalField, F, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import CreditNote, Invoice, InvoicePayment, InvoiceStatus

_MONEY = DecimalField(max_digits=20, decimal_places=2)

# The states a person reads: the stored ones plus the derived overdue and partially paid.
DISPLAY_STATUSES = [
    ("draft", _("Draft")),
    ("open", _("Open")),
    ("partially_paid", _("Partially paid")),
    ("overdue", _("Overdue")),
    ("paid", _("Paid")),
    ("void", _("Void")),
    ("uncollectible", _("Uncollectible")),
]
DISPLAY_STATUS_LABELS = dict(DISPLAY_STATUSES)


def _sum_of(model, column: str = "total"):
    rows = model.objects.filter(invoice=OuterRef("pk")).order_by().values("invoice").annotate(s=Sum(column))
    return Coalesce(Subquery(rows.values("s"), output_field=_MONEY), Value(Decimal(0)), output_field=_MONEY)


def with_balances(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate paid_amount, credited_amount and balance (0 for drafts, which owe nothing yet)."""
    return queryset.annotate(
        paid_amount=_sum_of(InvoicePayment, "amount"),
        credited_amount=_sum_of(CreditNote),
    ).annotate(
        balance=Coalesce(F("total"), Value(Decimal(0)), output_field=_MONEY) - F("paid_amount") - F("credited_amount")
    )


@dataclass(frozen=True)
class Balance:
    total: Decimal
    paid: Decimal
    credited: Decimal

    @property
    def due(self) -> Decimal:
        return self.total - self.paid - self.credited


def invoice_balance(invoice: Invoice) -> Balance:
    if invoice.total is None:
        return Balance(Decimal(0), Decimal(0), Decimal(0))
    paid = InvoicePayment.objects.filter(invoice=invoice).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    credited = CreditNote.objects.filter(invoice=invoice).aggregate(s=Sum("total"))["s"] or Decimal(0)
    return Balance(invoice.total, paid, credited)


def is_overdue(invoice: Invoice, *, today: date | None = None) -> bool:
    today = today or timezone.localdate()
    return invoice.status == InvoiceStatus.OPEN and invoice.due_date is not None and invoice.due_date < today


def display_status(invoice: Invoice, balance: Balance | None = None, *, today: date | None = None) -> str:
    """The state a person reads: the stored state, or overdue / partially paid, which derive from the due date
    and the balance."""
    if invoice.status != InvoiceStatus.OPEN:
        return invoice.status
    if is_overdue(invoice, today=today):
        return "overdue"
    balance = balance or invoice_balance(invoice)
    if balance.paid > 0 or balance.credited > 0:
        return "partially_paid"
    return "open"
