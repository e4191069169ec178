"""What the processor holds for the tenant, read from the processor balance ledger (payments.models.BalanceEntry).

Available is every entry whose money can be paid out by `today` (available_on <= today: charges past their
settlement delay, fees, refunds, disputes, payouts); pending is the rest. Available + pending is the whole ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from payments.models import BalanceEntry, ProcessorKey

_ZERO = Decimal(0)


@dataclass(frozen=True)
class Balance:
    processor: str
    currency: str
    available: Decimal
    pending: Decimal

    @property
    def total(self) -> Decimal:
        return self.available + self.pending

    @property
    def processor_label(self) -> str:
        return str(ProcessorKey(self.processor).label) if self.processor in ProcessorKey.values else self.processor


def balances(*, today: date | None = None, processor: str | None = None) -> list[Balance]:
    """Available and pending per processor and currency, in one query (one grouped sum over the ledger)."""
    today = today or timezone.localdate()
    queryset = BalanceEntry.objects.all()
    if processor:
        queryset = queryset.filter(processor=processor)
    rows = (
        queryset.values("processor", "currency")
        .annotate(
            available=Sum("amount", filter=Q(available_on__lte=today), default=_ZERO),
            pending=Sum("amount", filter=Q(available_on__gt=today), default=_ZERO),
        )
        .order_by("processor", "currency")
    )
    return [
        Balance(processor=r["processor"], currency=r["currency"], available=r["available"], pending=r["pending"])
        for r in rows
    ]


def balance_of(*, processor: str, currency: str, today: date | None = None) -> Balance:
    """One processor's balance in one currency (zero when it never held any)."""
    for balance in balances(today=today, processor=processor):
        if balance.currency == currency:
            return balance
    return Balance(processor=processor, currency=currency, available=_ZERO, pending=_ZERO)
