"""The one definition of every figure derived from the receivables ledger (billing/models/receivables.py).

An invoice's paid, credited, written-off and due amounts are sums of its ledger entries by kind, and the status a
person reads derives from them. `with_figures` adds them to any invoice queryset as annotations; everything that
shows or uses them (the record page, the hosted page, the index and its totals, aging, reminders, late fees, the CSV
export, emails, the CRM panels) reads those annotations, so a change here reaches every screen, job and export.

A customer's credit is the negated sum of the account's credit bucket (entries without an invoice).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Case, CharField, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import EntryKind, Invoice, InvoiceStatus, ReceivableEntry
from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from crm.models import Company, Contact

# Sums of stored amounts: a few more integer digits than one amount.
MONEY_OUTPUT = _MONEY = DecimalField(max_digits=MONEY_MAX_DIGITS + 4, decimal_places=MONEY_DECIMAL_PLACES)
ZERO = Decimal(0)

# Which entries of an invoice's bucket make up each figure. Together they are every kind that can be posted to an
# invoice, so total - paid - credited - written_off is the bucket's sum, which is the balance due.
# Refunds and chargebacks posted to an invoice lower what was paid on it (net of money given back).
PAID_KINDS = (
    EntryKind.PAYMENT_APPLIED,
    EntryKind.PAYMENT_REVERSED,
    EntryKind.CREDIT_APPLIED,
    EntryKind.REFUND,
    EntryKind.CHARGEBACK,
)
CREDITED_KINDS = (EntryKind.CREDIT_NOTE_ISSUED,)
WRITTEN_OFF_KINDS = (EntryKind.WRITTEN_OFF, EntryKind.VOIDED)

# The states a person reads: the stored lifecycle state refined by the ledger (partially paid, credited) and the
# due date (overdue).
DISPLAY_STATUSES = [
    ("draft", _("Draft")),
    ("open", _("Open")),
    ("partially_paid", _("Partially paid")),
    ("overdue", _("Overdue")),
    ("paid", _("Paid")),
    ("credited", _("Credited")),
    ("void", _("Void")),
    ("uncollectible", _("Uncollectible")),
]
DISPLAY_STATUS_LABELS = dict(DISPLAY_STATUSES)
# The stored state every display state requires: filters narrow by it first, which the indexes serve.
STORED_STATUS = {
    "draft": InvoiceStatus.DRAFT,
    "open": InvoiceStatus.OPEN,
    "partially_paid": InvoiceStatus.OPEN,
    "overdue": InvoiceStatus.OPEN,
    "paid": InvoiceStatus.PAID,
    "credited": InvoiceStatus.PAID,
    "void": InvoiceStatus.VOID,
    "uncollectible": InvoiceStatus.UNCOLLECTIBLE,
}


def _bucket_sum(kinds=None):
    entries = ReceivableEntry.objects.filter(invoice=OuterRef("pk"))
    if kinds is not None:
        entries = entries.filter(kind__in=kinds)
    sums = entries.order_by().values("invoice").annotate(s=Sum("amount")).values("s")
    return Coalesce(Subquery(sums, output_field=_MONEY), Value(ZERO), output_field=_MONEY)


def balance_due_expression():
    """What is still owed on an invoice: the sum of its bucket. Only an open invoice can owe anything (the services
    move an invoice to paid in the transaction whose entry zeroes its balance, and back to open when a reversal
    raises it; void and uncollectible write the rest off), so other rows skip the sum: that keeps the totals of the
    paid view from summing 800,000 buckets of zero. tests/billing/test_receivables_properties.py holds the rule."""
    return Case(When(status=InvoiceStatus.OPEN, then=_bucket_sum()), default=Value(ZERO), output_field=_MONEY)


def display_status_expression(today: date):
    """The badge: the stored state, refined by the due date (overdue) and by the ledger (partially paid, and
    credited for a settled invoice that credit notes settled without any payment). Names the paid_amount and
    credited_amount annotations of with_figures."""
    return Case(
        When(status=InvoiceStatus.OPEN, due_date__lt=today, then=Value("overdue")),
        When(
            Q(status=InvoiceStatus.OPEN) & (Q(paid_amount__gt=0) | Q(credited_amount__gt=0)),
            then=Value("partially_paid"),
        ),
        When(status=InvoiceStatus.PAID, paid_amount=0, credited_amount__gt=0, then=Value("credited")),
        default="status",
        output_field=CharField(),
    )


def with_figures(queryset: QuerySet[Invoice], *, today: date | None = None) -> QuerySet[Invoice]:
    """Annotate paid_amount, credited_amount, written_off_amount, balance_due and display_status.

    Postgres runs a correlated subquery once for every expression that names it, so a query that needs only the
    balance (filters, totals) uses `with_balance_due` instead."""
    today = today or timezone.localdate()
    return queryset.annotate(
        paid_amount=-_bucket_sum(PAID_KINDS),
        credited_amount=-_bucket_sum(CREDITED_KINDS),
        written_off_amount=-_bucket_sum(WRITTEN_OFF_KINDS),
        balance_due=balance_due_expression(),
    ).annotate(display_status=display_status_expression(today))


def with_balance_due(queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
    """Annotate balance_due alone: for filters and for jobs that read nothing else."""
    return queryset.annotate(balance_due=balance_due_expression())


def display_status_filter(statuses, *, today: date) -> Q:
    """Invoices whose badge reads one of `statuses`; needs the `display_status` annotation of with_figures."""
    condition = Q(pk__in=[])
    for status in statuses:
        stored = STORED_STATUS.get(status)
        if stored is None:
            continue
        narrow = Q(status=stored, display_status=status)
        if status == "overdue":
            narrow &= Q(due_date__lt=today)  # the (status, due_date) index serves it
        condition |= narrow
    return condition


@dataclass(frozen=True)
class InvoiceFigures:
    total: Decimal
    paid: Decimal
    credited: Decimal
    written_off: Decimal
    due: Decimal
    status: str


def figures_of(row: Invoice) -> InvoiceFigures:
    """The figures of a row loaded through with_figures."""
    return InvoiceFigures(
        total=row.total if row.total is not None else ZERO,
        paid=row.paid_amount,
        credited=row.credited_amount,
        written_off=row.written_off_amount,
        due=row.balance_due,
        status=row.display_status,
    )


def invoice_figures(invoice: Invoice, *, today: date | None = None) -> InvoiceFigures:
    row = with_figures(Invoice.objects.filter(pk=invoice.pk).only("status", "due_date", "total"), today=today).first()
    if row is None:
        return InvoiceFigures(ZERO, ZERO, ZERO, ZERO, ZERO, invoice.status)
    return figures_of(row)


def invoice_bucket_balance(invoice: Invoice) -> Decimal:
    """The plain sum of an invoice's bucket, whatever its stored state: what the services settle on."""
    return ReceivableEntry.objects.filter(invoice=invoice).aggregate(s=Sum("amount"))["s"] or ZERO


# --- customer accounts and their credit ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """A customer account: a company, or a contact without one."""

    company_id: int | None = None
    contact_id: int | None = None

    @property
    def key(self) -> str:
        return f"company:{self.company_id}" if self.company_id else f"contact:{self.contact_id}"

    def q(self) -> Q:
        if self.company_id:
            return Q(company_id=self.company_id)
        return Q(contact_id=self.contact_id, company_id__isnull=True)


def account_for_buyer(invoice: Invoice) -> Account | None:
    """The account a new invoice bills: its company, or its first contact by name (the buyer the index shows)."""
    if invoice.company_id:
        return Account(company_id=invoice.company_id)
    contact_id = invoice.contacts.order_by("last_name", "first_name", "id").values_list("id", flat=True).first()
    return Account(contact_id=contact_id) if contact_id else None


def invoice_account(invoice: Invoice) -> Account | None:
    """The account a finalized invoice was issued to (fixed by its issue entry), else the buyer's."""
    issued = (
        ReceivableEntry.objects.filter(invoice=invoice, kind=EntryKind.INVOICE_FINALIZED)
        .values("company_id", "contact_id")
        .first()
    )
    if issued:
        return Account(company_id=issued["company_id"], contact_id=issued["contact_id"])
    return account_for_buyer(invoice)


def credit_available(account: Account, currency: str) -> Decimal:
    """The customer's credit in `currency`: money received and not applied, and credit granted."""
    total = (
        ReceivableEntry.objects.filter(account.q(), currency=currency, invoice__isnull=True).aggregate(s=Sum("amount"))[
            "s"
        ]
        or ZERO
    )
    return -total


def credit_balances(account: Account) -> dict[str, Decimal]:
    """Credit per currency (only currencies that hold some), for the company and contact pages."""
    rows = (
        ReceivableEntry.objects.filter(account.q(), invoice__isnull=True)
        .order_by()
        .values("currency")
        .annotate(s=Sum("amount"))
        .order_by("currency")
    )
    return {row["currency"]: -row["s"] for row in rows if row["s"] and row["s"] < 0}


def account_of_record(record) -> Account | None:
    if isinstance(record, Company):
        return Account(company_id=record.pk)
    if isinstance(record, Contact):
        return Account(contact_id=record.pk)
    return None


def account_entries(account: Account, *, limit: int = 50) -> list[ReceivableEntry]:
    """The account's newest ledger entries, for its statement."""
    return list(
        ReceivableEntry.objects.filter(account.q())
        .select_related("invoice", "payment", "credit_note", "actor")
        .order_by("-created_at", "-id")[:limit]
    )
