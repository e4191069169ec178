"""Reads for the payouts pages, the payout CSV and the chart of recent payouts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from payments.models import BalanceEntry, Payout, PayoutStatus

_ZERO = Decimal(0)
# Statuses whose money did not reach the bank: left out of the chart.
_RETURNED = (PayoutStatus.FAILED, PayoutStatus.CANCELED)


def payout_list(*, processor: str | None = None) -> QuerySet[Payout]:
    """Newest arrival first (the model's ordering, with the pk to make it a keyset)."""
    queryset = Payout.objects.all()
    if processor:
        queryset = queryset.filter(processor=processor)
    return queryset


PAYOUT_ORDERING = ["-arrival_date", "-id"]
ROW_ORDERING = ["created_at", "id"]


def payout_entries(payout: Payout) -> QuerySet[BalanceEntry]:
    """The ledger rows a payout includes, with what their descriptions need, in the order they happened."""
    return (
        BalanceEntry.objects.filter(payout_item__payout=payout)
        .select_related("payment__invoice", "payment__company", "payment__contact")
        .order_by(*ROW_ORDERING)
    )


def payout_entries_total(payout: Payout) -> Decimal:
    return BalanceEntry.objects.filter(payout_item__payout=payout).aggregate(s=Sum("amount"))["s"] or _ZERO


@dataclass(frozen=True)
class PayoutRow:
    entry: BalanceEntry
    date: date
    kind_label: str
    payment_id: int | None
    payment_reference: str
    invoice_number: str
    description: str

    @property
    def amount(self) -> Decimal:
        return self.entry.amount


def _buyer(payment) -> str:
    if payment.company_id:
        return payment.company.name
    if payment.buyer_name:
        return payment.buyer_name
    if payment.contact_id:
        return str(payment.contact)
    return payment.buyer_email


def payout_row(entry: BalanceEntry) -> PayoutRow:
    """One ledger row as people read it: when it happened (the tenant's day), its kind, the payment it belongs to,
    and the invoice and buyer that payment paid."""
    payment = entry.payment
    invoice_number = ""
    description = entry.description
    if payment is not None:
        invoice_number = (payment.invoice.number or "") if payment.invoice_id else ""
        description = " · ".join(part for part in (invoice_number, _buyer(payment)) if part) or payment.public_id
    return PayoutRow(
        entry=entry,
        date=timezone.localdate(entry.created_at),
        kind_label=str(entry.get_kind_display()),
        payment_id=entry.payment_id,
        payment_reference=payment.public_id if payment is not None else "",
        invoice_number=invoice_number,
        description=description,
    )


@dataclass(frozen=True)
class ChartBar:
    day: date
    amount: Decimal
    percent: int  # of the tallest bar in its currency


@dataclass(frozen=True)
class ChartSeries:
    currency: str
    total: Decimal
    bars: list[ChartBar]


def payout_chart(*, today: date | None = None, days: int = 30) -> list[ChartSeries]:
    """Money paid out per day over the last `days` days (a built-in payout's day, or the day Stripe reported it), one
    series per currency, in one grouped query."""
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    rows = (
        Payout.objects.annotate(day=Coalesce("period_end", TruncDate("created_at")))
        .filter(day__gte=start, day__lte=today)
        .exclude(status__in=_RETURNED)
        .values("currency", "day")
        .annotate(total=Sum("amount"))
        .order_by("currency", "day")
    )
    by_currency: dict[str, dict[date, Decimal]] = {}
    for row in rows:
        by_currency.setdefault(row["currency"], {})[row["day"]] = row["total"]
    series = []
    for currency, amounts in sorted(by_currency.items()):
        tallest = max(amounts.values())
        bars = []
        for offset in range(days):
            day = start + timedelta(days=offset)
            amount = amounts.get(day, _ZERO)
            percent = int(amount * 100 / tallest) if tallest > 0 else 0
            bars.append(ChartBar(day=day, amount=amount, percent=max(percent, 2 if amount > 0 else 0)))
        series.append(ChartSeries(currency=currency, total=sum(amounts.values(), _ZERO), bars=bars))
    return series


def payment_url(payment_id: int | None) -> str:
    """The payment's record page (a path), when the records pages are installed."""
    if payment_id is None:
        return ""
    try:
        return reverse("payments:payment_detail", args=[payment_id])
    except NoReverseMatch:
        return ""
