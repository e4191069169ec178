"""The traces every payment change leaves: its timeline row and, when given, a domain event in the outbox."""

from __future__ import annotations

from commerce_hub.events.services import event_emit
from payments.models import Payment, PaymentEvent


def payment_event_add(payment: Payment, *, kind: str, actor=None, event=None, **data) -> PaymentEvent:
    row = PaymentEvent.objects.create(
        payment=payment,
        kind=kind,
        data=data,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if event is not None:
        payload = {"id": payment.pk, "amount": f"{payment.amount:f}", "currency": payment.currency}
        if payment.invoice_id:
            payload["invoice_id"] = payment.invoice_id
        event_emit(name=event, payload=payload | {k: v for k, v in data.items() if k in event.optional})
    return row
