"""Payout runs at the same moment (the hourly job in two workers, an admin's button, a run for another day) never
pay one ledger row twice and make one payout per currency and day."""

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Sum

from payments.models import BalanceEntry, BalanceKind, Payout, PayoutItem
from payments.services.payouts import payouts_run
from tests.concurrency import in_threads

MONDAY = date(2026, 3, 2)


def test_concurrent_runs_pay_every_row_once(django_db_setup, live_tenant):
    BalanceEntry.objects.bulk_create(
        BalanceEntry(
            processor="builtin",
            currency=currency,
            amount=Decimal(amount),
            kind=BalanceKind.CHARGE,
            available_on=MONDAY,
        )
        for currency, amount in [("EUR", "100.00"), ("EUR", "42.50"), ("NOK", "900.00")]
    )
    # Two runs for Monday and two for Tuesday, all at once: each row is due for both days.
    days = [MONDAY, MONDAY, MONDAY + timedelta(days=1), MONDAY + timedelta(days=1)]

    results = in_threads(4, lambda n: len(payouts_run(today=days[n], force=True)))

    assert sorted(results) == [0, 0, 0, 2]
    assert sorted((p.currency, p.amount) for p in Payout.objects.all()) == [
        ("EUR", Decimal("142.5000")),
        ("NOK", Decimal("900.0000")),
    ]
    assert PayoutItem.objects.count() == 3
    assert BalanceEntry.objects.aggregate(s=Sum("amount"))["s"] == 0
