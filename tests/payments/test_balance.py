"""The processor balance: available and pending per processor and currency, and a ledger that refuses edits."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import ProgrammingError, connection, transaction
from django.test.utils import CaptureQueriesContext

from payments.models import BalanceEntry, BalanceKind
from payments.selectors.balance import Balance, balance_of, balances
from tests.payments.paying import open_invoice, pay

D = date(2026, 3, 2)  # a Monday


def _entry(kind, amount, available_on, currency="EUR", processor="builtin"):
    return BalanceEntry.objects.create(
        processor=processor, currency=currency, amount=Decimal(amount), kind=kind, available_on=available_on
    )


def test_available_is_what_settled_by_today_and_pending_the_rest(tenant_alpha):
    _entry(BalanceKind.CHARGE, "242.00", D)
    _entry(BalanceKind.FEE, "-3.64", D)
    _entry(BalanceKind.CHARGE, "100.00", D + timedelta(days=1))
    _entry(BalanceKind.FEE, "-1.65", D + timedelta(days=1))
    _entry(BalanceKind.REFUND, "-42.00", D)
    _entry(BalanceKind.CHARGE, "1000.00", D + timedelta(days=2), currency="NOK")
    _entry(BalanceKind.CHARGE, "50.00", D, processor="stripe")

    with CaptureQueriesContext(connection) as queries:
        result = balances(today=D)
    # One grouped sum over the ledger (the tenant's search path is set by the connection, not by the selector).
    assert [q["sql"][:6] for q in queries if not q["sql"].startswith("SET ")] == ["SELECT"]

    assert result == [
        Balance("builtin", "EUR", Decimal("196.36"), Decimal("98.35")),
        Balance("builtin", "NOK", Decimal("0"), Decimal("1000.00")),
        Balance("stripe", "EUR", Decimal("50.00"), Decimal("0")),
    ]
    # A day later the second charge has settled: nothing is pending in EUR.
    assert balance_of(processor="builtin", currency="EUR", today=D + timedelta(days=1)) == Balance(
        "builtin", "EUR", Decimal("294.71"), Decimal("0")
    )
    assert balance_of(processor="builtin", currency="USD", today=D) == Balance("builtin", "USD", 0, 0)


def test_a_card_payment_is_pending_until_its_settlement_delay_has_passed(tenant_alpha):
    payment = pay(open_invoice())
    charge = BalanceEntry.objects.get(payment=payment, kind=BalanceKind.CHARGE)
    collected_on = charge.available_on - timedelta(days=2)  # the default settlement delay

    assert balance_of(processor="builtin", currency="EUR", today=collected_on) == Balance(
        "builtin", "EUR", Decimal("0"), Decimal("238.36")
    )
    assert balance_of(processor="builtin", currency="EUR", today=charge.available_on) == Balance(
        "builtin", "EUR", Decimal("238.36"), Decimal("0")
    )


MESSAGE = "processor balance entries cannot be changed or deleted; add a correcting entry"


def test_the_ledger_refuses_an_update(tenant_alpha):
    entry = _entry(BalanceKind.CHARGE, "242.00", D)
    with pytest.raises(ProgrammingError, match=MESSAGE), transaction.atomic():
        BalanceEntry.objects.filter(pk=entry.pk).update(amount=Decimal("1.00"))
    entry.refresh_from_db()
    assert entry.amount == Decimal("242.00")


def test_the_ledger_refuses_a_delete(tenant_alpha):
    entry = _entry(BalanceKind.FEE, "-3.64", D)
    with pytest.raises(ProgrammingError, match=MESSAGE), transaction.atomic():
        BalanceEntry.objects.filter(pk=entry.pk).delete()
    assert BalanceEntry.objects.filter(pk=entry.pk).exists()
