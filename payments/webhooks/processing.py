"""Stored webhook events: written once per event id by the endpoint, applied later by a worker in the tenant's
schema.

Order and once-only: a worker drains the tenant's pending events holding a Postgres advisory lock for the tenant
(session level, because each event's work calls the processor and must not sit inside a transaction), in the
processor's own `created` order, and moves each event out of "received" with a conditional update. A worker that
finds the lock taken leaves the events to the holder, which looks once more after letting go, so an event stored
while it drained is not left behind.

What an event says is not trusted on its own: a payment is refreshed from the processor (the PaymentIntent is the
truth, whatever order its events arrive in), and refunds, disputes and payouts are applied by services whose states
only move forward. Every refund or dispute event first brings its payment up to date, so a refund that arrives
before the payment's own success still books against a recorded payment.

A failure (the processor unreachable, a bug) marks the event failed with its error; it is tried again with
backoff for three days and stays listed (status failed) after that.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import F
from django.utils import timezone

from payments.models import PAYMENT_FINAL, Payment, PaymentStatus, ProcessorKey, WebhookEvent, WebhookStatus
from payments.processors import ProcessorEvent

logger = logging.getLogger(__name__)

# pg_advisory_lock(class, key): the class says "payments webhooks", the key is the tenant's schema.
_LOCK_CLASS = 0x50574831
BATCH = 200
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
# Doubling from a minute, capped at six hours: the twentieth attempt is about three days after the first.
MAX_ATTEMPTS = 20

PAYMENT_EVENTS = {
    "payment_intent.succeeded": "payment.succeeded",
    "payment_intent.processing": "payment.processing",
    "payment_intent.payment_failed": "payment.failed",
    # The refresh records what the PaymentIntent is now (cancelled): the kind only says "look again".
    "payment_intent.canceled": "payment.failed",
}
REFUND_EVENTS = ("refund.created", "refund.updated", "refund.failed")
DISPUTE_EVENTS = {
    "charge.dispute.created": "dispute.opened",
    "charge.dispute.updated": "dispute.updated",
    "charge.dispute.closed": "dispute.closed",
}
PAYOUT_EVENTS = {
    "payout.created": "payout.created",
    "payout.updated": "payout.updated",
    "payout.paid": "payout.updated",
    "payout.failed": "payout.updated",
    "payout.canceled": "payout.updated",
}
# Stripe's dispute states in ours: an inquiry (warning_*) that closes without a chargeback keeps the money.
DISPUTE_STATUS = {
    "warning_needs_response": "needs_response",
    "needs_response": "needs_response",
    "warning_under_review": "under_review",
    "under_review": "under_review",
    "warning_closed": "won",
    "won": "won",
    "prevented": "won",
    "lost": "lost",
}
PAYOUT_STATUS = {"pending", "in_transit", "paid", "failed", "canceled"}


# --- the endpoint's side ------------------------------------------------------------------------------------------


def webhook_event_store(
    *, processor: str, event_id: str, event_type: str, created: datetime, body: str, cursor=None
) -> bool:
    """Keep the raw event, once per (processor, event id), in one statement: a redelivery, concurrent or not,
    inserts nothing and changes nothing. True when this delivery stored it (the caller enqueues processing).
    `cursor`: one the caller already has open in the tenant's schema (each new cursor costs a round trip)."""
    event = WebhookEvent(
        processor=processor, event_id=event_id, event_type=event_type[:80], event_created=created, body=body
    )
    fields = [f for f in WebhookEvent._meta.concrete_fields if not f.primary_key]
    # Names come from the model's own metadata, values go as parameters.
    quote = connection.ops.quote_name
    table, pk = quote(WebhookEvent._meta.db_table), quote(WebhookEvent._meta.pk.column)
    columns, placeholders = ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT ({quote('processor')}, {quote('event_id')}) DO NOTHING RETURNING {pk}"
    )
    values = [f.get_db_prep_save(f.pre_save(event, add=True), connection) for f in fields]
    if cursor is not None:
        cursor.execute(sql, values)
        return cursor.fetchone() is not None
    with connection.cursor() as own:
        own.execute(sql, values)
        return own.fetchone() is not None


# --- the worker's side --------------------------------------------------------------------------------------------


def _lock_try() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))", [_LOCK_CLASS])
        return bool(cursor.fetchone()[0])


def _unlock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s, hashtext(current_schema()))", [_LOCK_CLASS])


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def _due(now) -> list[WebhookEvent]:
    """The next events to apply, oldest (by the processor's clock) first: every received one, and failed ones whose
    backoff has passed (`processed_at` of a failed event is when it was last tried)."""
    pending = list(
        WebhookEvent.objects.filter(processor=ProcessorKey.STRIPE, status=WebhookStatus.RECEIVED).order_by(
            "event_created", "id"
        )[:BATCH]
    )
    retries = [
        event
        for event in WebhookEvent.objects.filter(
            processor=ProcessorKey.STRIPE,
            status=WebhookStatus.FAILED,
            attempts__lt=MAX_ATTEMPTS,
            processed_at__lte=now - FIRST_RETRY,
        ).order_by("event_created", "id")[:BATCH]
        if event.processed_at + retry_delay(event.attempts) <= now
    ]
    return sorted(pending + retries, key=lambda e: (e.event_created, e.pk))[:BATCH]


def webhook_events_process(*, now=None) -> int:
    """Apply the tenant's due events in order; returns how many were applied (or ignored, or failed) here."""
    handled = 0
    for _round in range(100):
        if not _lock_try():
            return handled  # another worker is draining this tenant; it looks again before it stops
        try:
            handled += _drain(now=now)
        finally:
            _unlock()
        # An event stored while the lock was held found it taken and left it to us.
        if not _due(now or timezone.now()):
            break
    return handled


def _drain(*, now=None) -> int:
    from payments.processors.stripe import StripeProcessor

    processor = StripeProcessor.for_tenant()
    handled = 0
    while True:
        batch = _due(now or timezone.now())
        if not batch:
            return handled
        for event in batch:
            _apply(event, processor)
            handled += 1


def _apply(event: WebhookEvent, processor) -> None:
    from payments.services.processor_events import processor_event_apply

    still_due = {"pk": event.pk, "status__in": (WebhookStatus.RECEIVED, WebhookStatus.FAILED)}
    try:
        translated = stripe_event_translate(json.loads(event.body), processor)
        for processor_event in translated:
            if processor_event.kind.startswith("payment."):
                _payment_event_apply(processor_event, processor)
            else:
                processor_event_apply(processor_key=ProcessorKey.STRIPE, event=processor_event)
    except Exception as exc:
        # Any failure is recorded on the event and retried; none is lost and none stops the events after it.
        logger.exception("webhook event %s (%s) failed", event.event_id, event.event_type)
        WebhookEvent.objects.filter(**still_due).update(
            status=WebhookStatus.FAILED,
            attempts=F("attempts") + 1,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            processed_at=timezone.now(),
        )
        return
    WebhookEvent.objects.filter(**still_due).update(
        status=WebhookStatus.PROCESSED if translated else WebhookStatus.IGNORED,
        attempts=F("attempts") + 1,
        error="",
        processed_at=timezone.now(),
    )


class PaymentNotUpdated(Exception):
    pass


def _payment_event_apply(processor_event: ProcessorEvent, processor) -> None:
    """A payment event, applied so that a failure shows: the refresh a payment event causes keeps quiet when Stripe
    cannot be reached (the reconciliation job asks again for attempts it knows are open), but an event must not be
    marked applied when its payment did not move. So Stripe is asked first (no answer fails the event), and the
    payment is checked afterwards against that answer."""
    from payments.services.processor_events import processor_event_apply

    result = processor.payment_retrieve(reference=processor_event.reference)
    processor_event_apply(processor_key=ProcessorKey.STRIPE, event=processor_event)
    if result is None:
        return
    status = (
        Payment.objects.filter(processor=ProcessorKey.STRIPE, processor_reference=processor_event.reference)
        .values_list("status", flat=True)
        .first()
    )
    # Payments only move forward (created, waiting for the buyer, processing, final); behind Stripe is not applied.
    rank = {PaymentStatus.CREATED: 0, PaymentStatus.REQUIRES_ACTION: 1, PaymentStatus.PROCESSING: 2}
    if status is not None and status not in PAYMENT_FINAL and rank[status] < rank.get(result.status, 3):
        raise PaymentNotUpdated(f"payment still {status}, Stripe says {result.status}")


def webhook_event_retry(*, event: WebhookEvent) -> bool:
    """Make a failed event due again, whatever its backoff (a person asked for it); the caller enqueues
    processing."""
    updated = WebhookEvent.objects.filter(pk=event.pk, status=WebhookStatus.FAILED).update(
        status=WebhookStatus.RECEIVED
    )
    return bool(updated)


# --- Stripe's events in our terms ---------------------------------------------------------------------------------


def _amount(minor, currency: str) -> str:
    from payments.processors.stripe import from_minor

    return f"{from_minor(int(minor or 0), currency):f}"


def _iso_time(timestamp) -> str:
    return datetime.fromtimestamp(int(timestamp), tz=UTC).isoformat() if timestamp else ""


def _iso_date(timestamp) -> str:
    return datetime.fromtimestamp(int(timestamp), tz=UTC).date().isoformat() if timestamp else ""


def _id(value) -> str:
    return (value.get("id") or "") if isinstance(value, dict) else (value or "")


def refund_event(refund: dict) -> ProcessorEvent:
    from payments.processors.stripe import refund_result

    result = refund_result(refund)
    data = {
        "status": result.status,
        "amount": f"{result.amount:f}",
        "currency": result.currency,
        "payment_reference": _id(refund.get("payment_intent")),
        "balance_reference": result.balance_reference,
        "failure_message": result.failure_message,
    }
    idempotency_key = (refund.get("metadata") or {}).get("idempotency_key")
    if idempotency_key:
        data["idempotency_key"] = idempotency_key
    return ProcessorEvent(kind="refund.updated", reference=refund["id"], data=data)


def stripe_event_translate(event: dict, processor) -> list[ProcessorEvent]:
    """A Stripe event as the ProcessorEvents it means, in the order they are applied ([] for events we do not
    use). May ask Stripe for what the event no longer carries (a charge's refunds) or for a PaymentIntent whose
    create answer was lost."""
    kind = event.get("type", "")
    obj = (event.get("data") or {}).get("object") or {}
    if kind in PAYMENT_EVENTS:
        _payment_reference_ensure(obj, processor)
        return [ProcessorEvent(kind=PAYMENT_EVENTS[kind], reference=obj["id"])]
    if kind == "charge.refunded":
        payment_reference = _id(obj.get("payment_intent"))
        if not payment_reference:
            return []
        listed = obj.get("refunds") if isinstance(obj.get("refunds"), dict) else {}
        refunds = listed.get("data") if listed and not listed.get("has_more") else None
        if refunds is None:
            # Since API version 2022-11-15 a charge no longer lists its refunds; ask for them.
            refunds = processor.refunds_of_payment(payment_reference)
        return [
            _payment_refresh_event(payment_reference),
            *(refund_event(refund) for refund in refunds),
        ]
    if kind in REFUND_EVENTS:
        payment_reference = _id(obj.get("payment_intent"))
        if not payment_reference:
            return []
        return [_payment_refresh_event(payment_reference), refund_event(obj)]
    if kind in DISPUTE_EVENTS:
        payment_reference = _id(obj.get("payment_intent"))
        currency = str(obj.get("currency", "")).upper()
        status = DISPUTE_STATUS.get(obj.get("status", ""))
        if not payment_reference or status is None:
            return []
        data = {
            "payment_reference": payment_reference,
            "amount": _amount(obj.get("amount"), currency),
            "currency": currency,
            "status": status,
            "reason": str(obj.get("reason") or ""),
            "evidence_due_by": _iso_time((obj.get("evidence_details") or {}).get("due_by")),
        }
        return [
            _payment_refresh_event(payment_reference),
            ProcessorEvent(kind=DISPUTE_EVENTS[kind], reference=obj["id"], data=data),
        ]
    if kind in PAYOUT_EVENTS:
        currency = str(obj.get("currency", "")).upper()
        status = obj.get("status", "")
        if status not in PAYOUT_STATUS:
            return []
        data = {
            "amount": _amount(obj.get("amount"), currency),
            "currency": currency,
            "status": status,
            "arrival_date": _iso_date(obj.get("arrival_date")),
            "failure_message": str(obj.get("failure_message") or ""),
        }
        return [ProcessorEvent(kind=PAYOUT_EVENTS[kind], reference=obj["id"], data=data)]
    return []


def _payment_refresh_event(payment_reference: str) -> ProcessorEvent:
    """A refunded or disputed PaymentIntent has succeeded: its payment is brought up to date (asked, never
    assumed) before the refund or dispute is booked against it."""
    return ProcessorEvent(kind="payment.succeeded", reference=payment_reference)


def _payment_reference_ensure(intent: dict, processor) -> None:
    """An event about a PaymentIntent whose create answer never reached us: the attempt (named by the metadata our
    create set) learns its PaymentIntent now instead of at the next reconciliation run."""
    from payments.services.payments import payment_refresh

    public_id = (intent.get("metadata") or {}).get("payment") or ""
    if not public_id:
        return
    payment = Payment.objects.filter(
        processor=ProcessorKey.STRIPE, public_id=public_id, processor_reference__isnull=True
    ).first()
    if payment is not None:
        payment_refresh(payment=payment, processor=processor)
