"""Disputes from processor events: the money withdrawn when one opens, returned when it is won (not the fee), owed
again on the invoice when it is lost; admins told once; replays and events out of order end the same."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db.models import Sum
from django.utils import timezone

from billing.selectors.receivables import invoice_figures
from commerce_hub.events.models import OutboxEvent, OutgoingEmail
from commerce_hub.events.services import event_deliver
from payments.models import BalanceEntry, Dispute, DisputeStatus, Payment, PaymentEvent, PaymentStatus
from payments.processors.base import ProcessorEvent
from payments.processors.builtin import CARD_DISPUTED
from payments.services.disputes import dispute_event_apply, dispute_respond
from payments.services.processor_events import builtin_tick_apply
from payments.services.refunds import payment_refundable
from tests.conftest import user_make
from tests.payments.paying import CARD, open_invoice, pay

DUE = "2026-03-09T12:00:00+00:00"


def _event(kind, payment, status, *, reference="bi_dp_test", amount="242.00", **extra):
    data = {
        "payment_reference": payment.processor_reference,
        "amount": amount,
        "currency": payment.currency,
        "status": status,
        "reason": "fraudulent",
        "evidence_due_by": DUE,
    }
    return ProcessorEvent(kind=kind, reference=reference, data=data | extra)


def _apply(event, processor="builtin"):
    return dispute_event_apply(processor_key=processor, event=event)


def _deliver(name):
    for event_id in OutboxEvent.objects.filter(name=name).values_list("pk", flat=True):
        event_deliver(event_id=event_id)


def _ledger(payment):
    return sorted((e.kind, e.amount) for e in BalanceEntry.objects.filter(payment=payment))


def _balance(payment):
    return BalanceEntry.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"]


def test_an_opened_dispute_takes_the_amount_and_the_fee_and_admins_are_told_once(tenant_alpha, admin_user):
    other_admin = user_make("admin", email="erik@alpha.example", full_name="Erik Admin")
    user_make("finance", email="fenna@alpha.example")
    invoice = open_invoice()
    payment = pay(invoice)

    for _ in range(3):
        _apply(_event("dispute.opened", payment, "needs_response"))

    dispute = Dispute.objects.get()
    assert (dispute.status, dispute.amount, dispute.reason) == ("needs_response", Decimal("242.00"), "fraudulent")
    assert dispute.evidence_due_by == datetime(2026, 3, 9, 12, tzinfo=UTC)
    assert _ledger(payment) == [
        ("charge", Decimal("242.0000")),
        ("dispute", Decimal("-242.0000")),
        ("dispute_fee", Decimal("-15.0000")),
        ("fee", Decimal("-3.6400")),
    ]
    assert PaymentEvent.objects.filter(payment=payment, kind="dispute_opened").count() == 1
    [opened] = OutboxEvent.objects.filter(name="dispute.opened")
    assert opened.payload == {"id": dispute.pk, "payment_id": payment.pk, "amount": "242.00", "currency": "EUR"}

    _deliver("dispute.opened")
    _deliver("dispute.opened")
    emails = OutgoingEmail.objects.order_by("to")
    assert [e.to for e in emails] == sorted([admin_user.email, other_admin.email])
    assert emails[0].subject == f"Dispute opened: €242.00 on invoice {invoice.number}"
    assert "dispute fee of €15.00" in emails[0].text


def test_a_won_dispute_returns_the_amount_but_not_the_fee(tenant_alpha, admin_user):
    invoice = open_invoice()
    payment = pay(invoice)
    _apply(_event("dispute.opened", payment, "needs_response"))
    _apply(_event("dispute.updated", payment, "under_review"))
    for _ in range(3):
        _apply(_event("dispute.closed", payment, "won"))

    dispute = Dispute.objects.get()
    assert dispute.status == DisputeStatus.WON and dispute.closed_at is not None
    assert _balance(payment) == Decimal("223.36")  # 242.00 - 3.64 fee - 15.00 dispute fee
    assert ("dispute_reversal", Decimal("242.0000")) in _ledger(payment)
    assert invoice_figures(invoice).due == 0
    _deliver("dispute.closed")
    _deliver("dispute.closed")
    [email] = OutgoingEmail.objects.all()
    assert email.subject == f"Dispute won: €242.00 returned · {invoice.number}"


def test_a_lost_dispute_makes_the_invoice_owe_the_amount_again(tenant_alpha, admin_user):
    invoice = open_invoice()
    payment = pay(invoice)
    _apply(_event("dispute.opened", payment, "needs_response"))
    for _ in range(3):
        _apply(_event("dispute.closed", payment, "lost"))

    assert Dispute.objects.get().status == DisputeStatus.LOST
    figures = invoice_figures(invoice)
    assert (figures.paid, figures.due) == (Decimal("0.00"), Decimal("242.00"))
    invoice.refresh_from_db()
    assert invoice.status == "open"
    assert _balance(payment) == Decimal("-18.64")  # the charge net of its fee, less the dispute and its fee
    assert payment_refundable(payment) == 0
    _deliver("dispute.closed")
    _deliver("dispute.closed")
    [email] = OutgoingEmail.objects.all()
    assert email.subject == f"Dispute lost: €242.00 · {invoice.number}"
    assert f"Invoice {invoice.number} owes the amount again." in email.text


def test_a_closed_event_before_its_opened_event_ends_with_the_same_books(tenant_alpha):
    invoice = open_invoice()
    payment = pay(invoice)

    _apply(_event("dispute.closed", payment, "lost"))
    _apply(_event("dispute.opened", payment, "needs_response"))
    _apply(_event("dispute.updated", payment, "under_review"))
    _apply(_event("dispute.closed", payment, "lost"))

    assert Dispute.objects.get().status == DisputeStatus.LOST
    assert _ledger(payment) == [
        ("charge", Decimal("242.0000")),
        ("dispute", Decimal("-242.0000")),
        ("dispute_fee", Decimal("-15.0000")),
        ("fee", Decimal("-3.6400")),
    ]
    assert invoice_figures(invoice).due == Decimal("242.00")  # charged back once, not twice
    assert OutboxEvent.objects.filter(name="dispute.opened").count() == 1
    assert OutboxEvent.objects.filter(name="dispute.closed").count() == 1


def test_events_replayed_in_any_order_give_the_in_order_result(tenant_alpha):
    for seed in range(4):
        payment = pay(open_invoice())
        reference = f"bi_dp_{seed}"
        events = [
            _event("dispute.opened", payment, "needs_response", reference=reference),
            _event("dispute.updated", payment, "under_review", reference=reference),
            _event("dispute.closed", payment, "won", reference=reference),
        ] * 3
        random.Random(seed).shuffle(events)
        for event in events:
            _apply(event)
        dispute = Dispute.objects.get(processor_reference=reference)
        assert dispute.status == DisputeStatus.WON
        assert _balance(payment) == Decimal("223.36")
        assert BalanceEntry.objects.filter(dispute=dispute).count() == 3


def test_an_update_moves_the_evidence_due_date(tenant_alpha):
    payment = pay(open_invoice())
    _apply(_event("dispute.opened", payment, "needs_response"))
    _apply(_event("dispute.updated", payment, "needs_response", evidence_due_by="2026-03-12T12:00:00+00:00"))
    dispute = Dispute.objects.get()
    assert dispute.evidence_due_by == datetime(2026, 3, 12, 12, tzinfo=UTC)
    assert dispute.status == DisputeStatus.NEEDS_RESPONSE


def _stripe_payment():
    return Payment.objects.create(
        public_id="pay_stripe_1",
        attempt_key="stripe-attempt-1",
        amount=Decimal("100.00"),
        currency="EUR",
        method="card",
        processor="stripe",
        processor_reference="pi_123",
        status=PaymentStatus.SUCCEEDED,
        fee=Decimal("1.65"),
    )


def test_a_stripe_dispute_withdraws_the_fee_stripe_reports(tenant_alpha):
    payment = _stripe_payment()
    _apply(
        _event("dispute.opened", payment, "needs_response", reference="dp_1", amount="100.00", fee="20.00"), "stripe"
    )
    _apply(_event("dispute.opened", payment, "needs_response", reference="dp_2", amount="30.00"), "stripe")

    rows = sorted((e.dispute.processor_reference, e.kind, e.amount) for e in BalanceEntry.objects.all())
    assert rows == [
        ("dp_1", "dispute", Decimal("-100.0000")),
        ("dp_1", "dispute_fee", Decimal("-20.0000")),
        ("dp_2", "dispute", Decimal("-30.0000")),
    ]


def test_a_dispute_for_a_payment_that_is_not_ours_is_ignored(tenant_alpha):
    payment = pay(open_invoice())
    other = ProcessorEvent(
        kind="dispute.opened",
        reference="bi_dp_other",
        data={"payment_reference": "bi_pay_unknown", "amount": "10.00", "currency": "EUR", "status": "needs_response"},
    )
    assert _apply(other) is None
    assert _apply(_event("dispute.opened", payment, "needs_response"), "stripe") is None  # another processor's id
    assert not Dispute.objects.exists()


def test_a_disputed_test_card_is_disputed_by_the_clock_and_won_with_evidence(tenant_alpha):
    invoice = open_invoice()
    payment = pay(invoice, data=CARD | {"number": CARD_DISPUTED})
    assert payment.status == PaymentStatus.SUCCEEDED

    now = timezone.now() + timedelta(minutes=1)
    assert builtin_tick_apply(now=now) == 1
    dispute = Dispute.objects.get(payment=payment)
    assert (dispute.status, dispute.amount) == (DisputeStatus.NEEDS_RESPONSE, Decimal("242.0000"))
    assert _balance(payment) == Decimal("-18.64")

    dispute = dispute_respond(dispute=dispute, accept=False, evidence="Delivered to Strandgaten 5 on 2 March.")
    assert dispute.status == DisputeStatus.UNDER_REVIEW
    builtin_tick_apply(now=timezone.now() + timedelta(days=2))  # the review ends: evidence wins in test mode

    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.WON
    assert _balance(payment) == Decimal("223.36")
    assert invoice_figures(invoice).due == 0


def test_a_disputed_test_card_left_unanswered_is_lost(tenant_alpha):
    invoice = open_invoice()
    payment = pay(invoice, data=CARD | {"number": CARD_DISPUTED})
    builtin_tick_apply(now=timezone.now() + timedelta(minutes=1))
    builtin_tick_apply(now=timezone.now() + timedelta(days=8))  # the evidence period passed in silence

    assert Dispute.objects.get(payment=payment).status == DisputeStatus.LOST
    assert invoice_figures(invoice).due == Decimal("242.00")
