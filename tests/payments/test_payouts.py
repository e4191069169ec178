"""Built-in payouts: the available balance paid out on the schedule's days, settlement delay respected, refunds,
disputes and a negative balance carried into the next payout, one payout per currency and day, each listing exactly
the ledger rows it pays out."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from commerce_hub.events.models import OutboxEvent, OutgoingEmail
from payments.models import (
    BalanceEntry,
    BalanceKind,
    PaymentSettings,
    Payout,
    PayoutItem,
    PayoutSchedule,
    PayoutStatus,
    RefundMode,
)
from payments.processors.base import ProcessorEvent
from payments.selectors.balance import balance_of
from payments.services.disputes import dispute_event_apply
from payments.services.payouts import (
    business_day_after,
    payout_now,
    payouts_advance,
    payouts_email_send,
    payouts_job,
    payouts_run,
)
from payments.services.refunds import refund_request
from tests.conftest import user_make
from tests.payments.paying import open_invoice, pay

MONDAY = date(2026, 3, 2)


def _schedule(schedule=PayoutSchedule.DAILY, **fields):
    PaymentSettings.objects.update_or_create(pk=1, defaults={"payout_schedule": schedule, **fields})


def _paid_card():
    """A 242.00 card payment (fee 3.64), and the day it was collected (two days before it is available)."""
    payment = pay(open_invoice())
    charge = BalanceEntry.objects.get(payment=payment, kind=BalanceKind.CHARGE)
    return payment, charge.available_on - timedelta(days=2)


def _entry(kind, amount, available_on, currency="EUR"):
    return BalanceEntry.objects.create(
        processor="builtin", currency=currency, amount=Decimal(amount), kind=kind, available_on=available_on
    )


def _items(payout):
    return sorted((e.kind, e.amount) for e in BalanceEntry.objects.filter(payout_item__payout=payout).order_by("kind"))


def test_a_card_payment_is_paid_out_after_its_settlement_delay_net_of_its_fee(tenant_alpha):
    _schedule()
    payment, day = _paid_card()

    assert payouts_run(today=day) == []
    assert payouts_run(today=day + timedelta(days=1)) == []  # still within the two-day settlement delay
    [payout] = payouts_run(today=day + timedelta(days=2))

    assert (payout.amount, payout.currency, payout.status) == (Decimal("238.36"), "EUR", PayoutStatus.PENDING)
    assert payout.period_end == day + timedelta(days=2)
    assert payout.arrival_date == business_day_after(day + timedelta(days=2))
    assert _items(payout) == [("charge", Decimal("242.0000")), ("fee", Decimal("-3.6400"))]
    # The payout's own entry takes the money off the balance.
    own = BalanceEntry.objects.get(payout=payout, kind=BalanceKind.PAYOUT)
    assert (own.amount, own.available_on) == (Decimal("-238.3600"), day + timedelta(days=2))
    assert balance_of(processor="builtin", currency="EUR", today=day + timedelta(days=2)).available == 0
    assert OutboxEvent.objects.filter(name="payout.created", payload__id=payout.pk).count() == 1


def test_running_twice_the_same_day_makes_one_payout(tenant_alpha):
    _schedule()
    _payment, day = _paid_card()
    payday = day + timedelta(days=2)

    first = payouts_run(today=payday)
    again = payouts_run(today=payday)
    payouts_job(today=payday)

    assert len(first) == 1 and again == []
    assert Payout.objects.count() == 1
    assert PayoutItem.objects.count() == 2
    assert BalanceEntry.objects.filter(kind=BalanceKind.PAYOUT).count() == 1


def test_a_refund_lowers_the_next_payout(tenant_alpha, admin_user):
    _schedule()
    payment, day = _paid_card()
    refund_request(payment=payment, amount="42.00", mode=RefundMode.REOPEN, actor=admin_user)

    [payout] = payouts_run(today=day + timedelta(days=2))

    assert payout.amount == Decimal("196.36")  # 242.00 - 3.64 - 42.00
    assert payout.amount == BalanceEntry.objects.filter(payout_item__payout=payout).aggregate(s=Sum("amount"))["s"]


def _dispute_open(payment, reference="dp_test_1", amount="242.00"):
    data = {
        "payment_reference": payment.processor_reference,
        "amount": amount,
        "currency": "EUR",
        "status": "needs_response",
        "reason": "fraudulent",
        "evidence_due_by": "2026-03-09T12:00:00+00:00",
    }
    return dispute_event_apply(
        processor_key="builtin", event=ProcessorEvent(kind="dispute.opened", reference=reference, data=data)
    )


def test_a_dispute_and_its_fee_carry_a_negative_balance_into_later_payouts(tenant_alpha):
    _schedule()
    first, day = _paid_card()
    payday = day + timedelta(days=2)
    [paid] = payouts_run(today=payday)
    assert paid.amount == Decimal("238.36")

    # The buyer's bank pulls the first payment back: 242.00 and the 15.00 dispute fee leave the balance.
    _dispute_open(first)
    assert payouts_run(today=payday + timedelta(days=1)) == []
    assert balance_of(processor="builtin", currency="EUR", today=payday + timedelta(days=1)).available == Decimal(
        "-257.00"
    )
    # The next payment only pays part of the debt: -257.00 + 238.36 = -18.64 stays on the balance.
    pay(open_invoice())
    assert payouts_run(today=payday + timedelta(days=2)) == []
    # The one after that is paid out, less what was still owed: 238.36 - 18.64.
    pay(open_invoice())
    [payout] = payouts_run(today=payday + timedelta(days=3))

    assert payout.amount == Decimal("219.72")
    assert _items(payout) == [
        ("charge", Decimal("242.0000")),
        ("charge", Decimal("242.0000")),
        ("dispute", Decimal("-242.0000")),
        ("dispute_fee", Decimal("-15.0000")),
        ("fee", Decimal("-3.6400")),
        ("fee", Decimal("-3.6400")),
    ]
    assert balance_of(processor="builtin", currency="EUR", today=payday + timedelta(days=3)).available == 0


def test_a_negative_available_balance_is_carried_over(tenant_alpha):
    _schedule()
    _entry(BalanceKind.CHARGE, "100.00", MONDAY)
    _entry(BalanceKind.FEE, "-1.65", MONDAY)
    _entry(BalanceKind.REFUND, "-150.00", MONDAY)
    assert payouts_run(today=MONDAY) == []

    _entry(BalanceKind.CHARGE, "80.00", MONDAY + timedelta(days=1))
    [payout] = payouts_run(today=MONDAY + timedelta(days=1))

    assert payout.amount == Decimal("28.35")  # 100.00 - 1.65 - 150.00 + 80.00
    assert len(_items(payout)) == 4


def test_a_balance_of_exactly_zero_is_not_paid_out(tenant_alpha):
    _schedule()
    _entry(BalanceKind.CHARGE, "10.00", MONDAY)
    _entry(BalanceKind.REFUND, "-10.00", MONDAY)
    assert payouts_run(today=MONDAY) == []
    assert PayoutItem.objects.count() == 0


def test_each_payout_lists_exactly_the_rows_it_pays_out_and_they_sum_to_it(tenant_alpha):
    _schedule()
    monday = [_entry(BalanceKind.CHARGE, "50.00", MONDAY), _entry(BalanceKind.FEE, "-0.95", MONDAY)]
    tuesday = [
        _entry(BalanceKind.CHARGE, "20.00", MONDAY + timedelta(days=1)),
        _entry(BalanceKind.FEE, "-0.53", MONDAY + timedelta(days=1)),
    ]
    later = _entry(BalanceKind.CHARGE, "99.00", MONDAY + timedelta(days=5))

    [first] = payouts_run(today=MONDAY)
    [second] = payouts_run(today=MONDAY + timedelta(days=1))

    assert set(BalanceEntry.objects.filter(payout_item__payout=first)) == set(monday)
    assert set(BalanceEntry.objects.filter(payout_item__payout=second)) == set(tuesday)
    assert (first.amount, second.amount) == (Decimal("49.05"), Decimal("19.47"))
    assert not PayoutItem.objects.filter(entry=later).exists()


def test_each_currency_is_paid_out_on_its_own(tenant_alpha):
    _schedule()
    _entry(BalanceKind.CHARGE, "100.00", MONDAY)
    _entry(BalanceKind.CHARGE, "1000.00", MONDAY, currency="NOK")
    _entry(BalanceKind.REFUND, "-2000.00", MONDAY, currency="USD")

    payouts = payouts_run(today=MONDAY)

    assert [(p.currency, p.amount) for p in payouts] == [("EUR", Decimal("100.00")), ("NOK", Decimal("1000.00"))]


def test_weekly_payouts_wait_for_their_weekday(tenant_alpha):
    _schedule(PayoutSchedule.WEEKLY, payout_weekday=2)  # Wednesday
    _entry(BalanceKind.CHARGE, "100.00", MONDAY)

    assert payouts_run(today=MONDAY) == []
    assert payouts_run(today=MONDAY + timedelta(days=1)) == []
    [payout] = payouts_run(today=MONDAY + timedelta(days=2))
    assert (payout.amount, payout.period_end) == (Decimal("100.00"), date(2026, 3, 4))


def test_monthly_payouts_on_the_31st_fall_on_the_last_day_of_shorter_months(tenant_alpha):
    _schedule(PayoutSchedule.MONTHLY, payout_monthday=31)
    _entry(BalanceKind.CHARGE, "100.00", date(2026, 2, 10))
    _entry(BalanceKind.CHARGE, "40.00", date(2026, 3, 10))

    assert payouts_run(today=date(2026, 2, 27)) == []
    [february] = payouts_run(today=date(2026, 2, 28))
    assert payouts_run(today=date(2026, 3, 30)) == []
    [march] = payouts_run(today=date(2026, 3, 31))
    assert (february.amount, march.amount) == (Decimal("100.00"), Decimal("40.00"))


def test_manual_payouts_happen_only_when_an_admin_asks(tenant_alpha, admin_user):
    _schedule(PayoutSchedule.MANUAL)
    _entry(BalanceKind.CHARGE, "100.00", MONDAY)

    assert payouts_run(today=MONDAY) == []
    assert payouts_job(today=MONDAY) == 0
    [payout] = payout_now(actor=admin_user, today=MONDAY)
    assert payout.amount == Decimal("100.00")

    with pytest.raises(ValidationError, match="There was a payout today already"):
        payout_now(actor=admin_user, today=MONDAY)
    with pytest.raises(ValidationError, match="Nothing is available to pay out"):
        payout_now(actor=admin_user, today=MONDAY + timedelta(days=1))


def test_pay_out_now_is_refused_when_a_schedule_is_set(tenant_alpha, admin_user):
    _schedule(PayoutSchedule.DAILY)
    _entry(BalanceKind.CHARGE, "100.00", MONDAY)
    with pytest.raises(ValidationError, match="switch it to manual first"):
        payout_now(actor=admin_user, today=MONDAY)
    assert Payout.objects.count() == 0


def test_a_payout_arrives_on_the_next_business_day():
    assert business_day_after(date(2026, 3, 2)) == date(2026, 3, 3)  # Monday -> Tuesday
    assert business_day_after(date(2026, 3, 6)) == date(2026, 3, 9)  # Friday -> Monday
    assert business_day_after(date(2026, 3, 7)) == date(2026, 3, 9)  # Saturday -> Monday


def test_the_job_moves_a_payout_to_in_transit_then_paid_on_its_arrival_date(tenant_alpha):
    _schedule()
    friday = date(2026, 3, 6)
    _entry(BalanceKind.CHARGE, "100.00", friday)

    assert payouts_job(today=friday) == 1
    payout = Payout.objects.get()
    assert (payout.status, payout.arrival_date) == (PayoutStatus.PENDING, date(2026, 3, 9))
    payouts_job(today=friday)  # the next hourly run: sent to the bank
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.IN_TRANSIT
    payouts_job(today=date(2026, 3, 8))
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.IN_TRANSIT  # Sunday: not there yet
    payouts_job(today=date(2026, 3, 9))
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.PAID and payout.paid_at is not None
    assert OutboxEvent.objects.filter(name="payout.paid", payload__id=payout.pk).count() == 1
    assert payouts_advance(today=date(2026, 3, 10)) == 0


def test_admins_get_one_email_per_payout_with_the_total_per_currency(tenant_alpha, admin_user):
    second_admin = user_make("admin", email="erik@alpha.example", full_name="Erik Admin")
    user_make("finance", email="fenna@alpha.example")
    _schedule()
    _entry(BalanceKind.CHARGE, "242.00", MONDAY)
    _entry(BalanceKind.FEE, "-3.64", MONDAY)
    _entry(BalanceKind.CHARGE, "1000.00", MONDAY, currency="NOK")

    payouts_job(today=MONDAY)
    payouts_job(today=MONDAY)
    assert payouts_email_send() == 0

    emails = OutgoingEmail.objects.order_by("to")
    assert [e.to for e in emails] == sorted([admin_user.email, second_admin.email])
    assert emails[0].subject == "Payouts on their way: €238.36, NOK1,000.00"
    assert "€238.36" in emails[0].text and "/payments/payouts/" in emails[0].text
    assert Payout.objects.filter(emailed_at__isnull=True).count() == 0
