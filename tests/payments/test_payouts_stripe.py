"""Stripe's payouts come from its events: one read-only payout per Stripe payout, its state only moving forward,
whatever order and however often the events arrive; a failed payout's money returns to the balance."""

import random
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from commerce_hub.events.models import OutboxEvent
from payments.models import BalanceEntry, Payout, PayoutStatus
from payments.processors.base import ProcessorEvent
from payments.services.payouts import payout_event_apply


def _event(kind, status, *, reference="po_1Nabc", amount="1520.40", **extra):
    data = {"amount": amount, "currency": "eur", "status": status, "arrival_date": "2026-03-05"} | extra
    return ProcessorEvent(kind=kind, reference=reference, data=data)


def _apply_all(events):
    for event in events:
        payout_event_apply(processor_key="stripe", event=event)


def test_payout_events_three_times_in_shuffled_order_give_one_payout_in_its_final_state(tenant_alpha):
    for seed in range(5):
        reference = f"po_seed_{seed}"
        events = [
            _event("payout.created", "pending", reference=reference),
            _event("payout.updated", "in_transit", reference=reference),
            _event("payout.updated", "paid", reference=reference),
        ] * 3
        random.Random(seed).shuffle(events)
        _apply_all(events)

        payout = Payout.objects.get(processor="stripe", external_id=reference)
        assert (payout.status, payout.amount, payout.currency) == (PayoutStatus.PAID, Decimal("1520.40"), "EUR")
        assert payout.arrival_date == date(2026, 3, 5) and payout.paid_at is not None
        assert payout.period_end is None  # Stripe's payouts are not computed here
        rows = [(e.kind, e.amount) for e in BalanceEntry.objects.filter(payout=payout)]
        assert rows == [("payout", Decimal("-1520.4000"))]
        assert OutboxEvent.objects.filter(name="payout.created", payload__id=payout.pk).count() == 1
        assert OutboxEvent.objects.filter(name="payout.paid", payload__id=payout.pk).count() == 1
    assert Payout.objects.count() == 5


def test_a_failed_payout_returns_its_money_to_the_balance_once(tenant_alpha):
    events = [
        _event("payout.created", "pending"),
        _event("payout.updated", "paid"),
        _event("payout.updated", "failed", failure_message="The bank account was closed."),
    ] * 3
    random.Random(7).shuffle(events)
    _apply_all(events)

    payout = Payout.objects.get()
    assert (payout.status, payout.failure_message) == (PayoutStatus.FAILED, "The bank account was closed.")
    rows = sorted((e.kind, e.amount) for e in BalanceEntry.objects.filter(payout=payout))
    assert rows == [("payout", Decimal("-1520.4000")), ("payout_failure", Decimal("1520.4000"))]
    assert BalanceEntry.objects.aggregate(s=Sum("amount"))["s"] == 0
    assert OutboxEvent.objects.filter(name="payout.failed").count() == 1


def test_a_later_event_can_move_the_arrival_date(tenant_alpha):
    _apply_all([_event("payout.created", "pending"), _event("payout.updated", "pending", arrival_date=1772928000)])
    assert Payout.objects.get().arrival_date == date(2026, 3, 8)


def test_events_that_make_no_sense_change_nothing(tenant_alpha):
    _apply_all(
        [
            _event("payout.created", "pending", amount="lots"),
            _event("payout.created", "pending", amount="-5.00"),
            _event("payout.created", "exploded"),
            _event("payout.created", "pending", reference=""),
        ]
    )
    payout_event_apply(processor_key="builtin", event=_event("payout.created", "pending"))
    assert not Payout.objects.exists()
    assert not BalanceEntry.objects.exists()
