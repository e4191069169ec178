"""Payout arithmetic over random ledgers: whatever the charges, fees, refunds, disputes, dispute reversals and payout
days, the money paid out plus what is left equals what came in less what went out, no ledger row is paid out twice,
each payout is the sum of its rows, and after a payout day nothing positive is left available."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from payments.models import BalanceEntry, BalanceKind, Payout, PayoutItem
from payments.selectors.balance import balance_of
from payments.services.payouts import payouts_run

START = date(2026, 3, 2)
SIGN = {
    BalanceKind.CHARGE: 1,
    BalanceKind.FEE: -1,
    BalanceKind.REFUND: -1,
    BalanceKind.DISPUTE: -1,
    BalanceKind.DISPUTE_FEE: -1,
    BalanceKind.DISPUTE_REVERSAL: 1,
}
cents = st.integers(min_value=1, max_value=500_000).map(lambda c: Decimal(c) / 100)
entries = st.lists(
    st.tuples(
        st.sampled_from(list(SIGN)),
        cents,
        st.integers(min_value=0, max_value=12),  # available this many days after START
        st.sampled_from(["EUR", "NOK"]),
    ),
    max_size=40,
)
payout_days = st.sets(st.integers(min_value=0, max_value=15), max_size=10)


class _Rollback(Exception):
    pass


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=entries, days=payout_days)
def test_payouts_plus_the_remaining_balance_equal_what_came_in_less_what_went_out(tenant_alpha, ledger, days):
    try:
        with transaction.atomic():
            _check(ledger, days)
            raise _Rollback
    except _Rollback:
        pass


def _check(ledger, days):
    BalanceEntry.objects.bulk_create(
        BalanceEntry(
            processor="builtin",
            currency=currency,
            amount=SIGN[kind] * amount,
            kind=kind,
            available_on=START + timedelta(days=offset),
        )
        for kind, amount, offset, currency in ledger
    )
    for day in sorted(days):
        today = START + timedelta(days=day)
        payouts_run(today=today, force=True)
        for currency in ("EUR", "NOK"):
            # A payout day leaves nothing positive available: it was paid out, or a debt carries over.
            assert balance_of(processor="builtin", currency=currency, today=today).available <= 0

    for currency in ("EUR", "NOK"):
        expected = sum((SIGN[k] * a for k, a, _o, c in ledger if c == currency), Decimal(0))
        paid = Payout.objects.filter(currency=currency).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        remaining = BalanceEntry.objects.filter(currency=currency).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        unpaid = BalanceEntry.objects.filter(currency=currency, payout_item__isnull=True).exclude(
            kind=BalanceKind.PAYOUT
        ).aggregate(s=Sum("amount"))["s"] or Decimal(0)
        assert paid + remaining == expected  # charges - fees - refunds - disputes (+ reversals)
        assert remaining == unpaid  # what is left is exactly the rows not paid out yet

    for payout in Payout.objects.all():
        assert payout.amount > 0
        rows = BalanceEntry.objects.filter(payout_item__payout=payout).aggregate(s=Sum("amount"))["s"]
        assert rows == payout.amount
        assert BalanceEntry.objects.filter(payout=payout, kind=BalanceKind.PAYOUT).get().amount == -payout.amount
    # No row is in two payouts, and a payout's own entry is in none.
    assert PayoutItem.objects.count() == PayoutItem.objects.values("entry").distinct().count()
    assert not PayoutItem.objects.filter(entry__kind=BalanceKind.PAYOUT).exists()
