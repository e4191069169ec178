"""Processor events in our terms (payments.processors.ProcessorEvent), applied to our records. Stripe's webhooks and
the built-in processor's clock both end here, so a debit that settles or a dispute that opens is handled the same
way whichever processor reported it. Every branch is idempotent: an event applied twice changes nothing more."""

from __future__ import annotations

from payments.models import Payment
from payments.processors import ProcessorEvent, processor_get
from payments.services.payments import payment_refresh


def processor_event_apply(*, processor_key: str, event: ProcessorEvent) -> None:
    processor = processor_get(processor_key)
    if event.kind.startswith("payment."):
        payment = Payment.objects.filter(processor=processor_key, processor_reference=event.reference).first()
        if payment is not None:
            # The event says something changed; the processor's current state says what (Stripe's advice: events
            # can arrive late and out of order, the object is the truth).
            payment_refresh(payment=payment, processor=processor)
        return
    if event.kind.startswith("dispute."):
        from payments.services.disputes import dispute_event_apply

        dispute_event_apply(processor_key=processor_key, event=event)
        return
    if event.kind.startswith("payout."):
        from payments.services.payouts import payout_event_apply

        payout_event_apply(processor_key=processor_key, event=event)
        return
    if event.kind.startswith("refund."):
        from payments.services.refunds import refund_event_apply

        refund_event_apply(processor_key=processor_key, event=event)


def builtin_tick_apply(*, now=None) -> int:
    from payments.processors.builtin import BuiltinProcessor

    processor = BuiltinProcessor()
    events = processor.tick(now=now)
    for event in events:
        processor_event_apply(processor_key=processor.key, event=event)
    return len(events)
