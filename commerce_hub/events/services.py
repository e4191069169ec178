"""The outbox: domain events recorded with the change that caused them, and their delivery to handlers.

Delivery of one (event, handler) pair:
1. claim: a conditional UPDATE that takes a lease on a pending, due, unleased delivery and counts the attempt; it
   must touch one row, and it commits at once;
2. run the handler outside any transaction, so no row lock is held while it calls an HTTP API (Stripe, Exact);
3. record the outcome in a short transaction of its own, only if the lease is still this run's.

A worker that dies in step 2 leaves the lease to expire; the sweep then claims the delivery again. Handlers are
therefore run at least once and must be idempotent (commerce_hub.events.registry). Failed attempts back off
exponentially for at least three days (commerce_hub.events.backoff) before the delivery is marked failed; failed
deliveries wait on the admin page for a retry and are listed in the admins' daily digest. Nothing is dropped.

The tasks (commerce_hub.events.tasks) import these services; the services reach the tasks only through the
enqueue hook the tasks module sets when it loads, so there is no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from commerce_hub import request_context
from commerce_hub.events import registry, signals
from commerce_hub.events.backoff import MAX_ATTEMPTS, retry_delay
from commerce_hub.events.catalogue import EventType, event_type_get
from commerce_hub.events.models import Delivery, DeliveryEffect, OutboxEvent

__all__ = ["MAX_ATTEMPTS", "retry_delay"]

# Longer than any handler takes, HTTP calls included. A worker that dies mid-handler holds the delivery this long.
DELIVERY_LEASE = timedelta(minutes=10)
STOPPED_ERROR = "The worker stopped while running the handler (lease expired on the last attempt)."

# How a recorded event reaches a worker: set by commerce_hub.events.tasks when it loads (EventsConfig.ready imports
# it). Until then events still wait in the outbox, and the periodic sweep delivers them.
_enqueue_event: Callable[[int], None] | None = None


def event_enqueuer_set(fn: Callable[[int], None] | None) -> None:
    """`fn(event_id)` hands an event to a worker once the current transaction commits."""
    global _enqueue_event
    _enqueue_event = fn


def event_emit(*, name: EventType | str, payload: dict) -> OutboxEvent:
    """Record a domain event inside the caller's transaction; deliver it only once that transaction commits.

    `name` is a catalogue constant (`billing.events.INVOICE_FINALIZED`); an event that is not in the catalogue, or a
    payload without its declared fields, is refused. If the transaction rolls back, the event row goes with it and
    nothing is delivered.
    """
    return events_emit(name=name, payloads=[payload])[0]


def events_emit(*, name: EventType | str, payloads: list[dict]) -> list[OutboxEvent]:
    """event_emit for many events of one type (a job's batch): one INSERT of the events and one of their deliveries,
    each event handed to a worker on its own once the transaction commits."""
    event_type = event_type_get(name)
    for payload in payloads:
        event_type.payload_check(payload)
    if not connection.in_atomic_block:
        raise RuntimeError("event_emit must be called inside the transaction that makes the change.")
    request_id = request_context.current().request_id
    events = OutboxEvent.objects.bulk_create(
        [OutboxEvent(name=event_type.name, payload=payload, request_id=request_id) for payload in payloads]
    )
    handlers = registry.handlers_for(event_type.name)
    Delivery.objects.bulk_create([Delivery(event=event, handler=key) for event in events for key in handlers])
    if _enqueue_event is not None:
        for event in events:
            _enqueue_event(event.pk)
    return events


def event_deliver(*, event_id: int) -> list[Delivery]:
    """Run every due, pending delivery of one event. Returns the deliveries still pending (to retry later)."""
    still_pending = []
    delivery_ids = list(
        Delivery.objects.filter(event_id=event_id, status=Delivery.Status.PENDING).values_list("id", flat=True)
    )
    for delivery_id in delivery_ids:
        delivery = delivery_run(delivery_id=delivery_id)
        if delivery is not None and delivery.status == Delivery.Status.PENDING:
            still_pending.append(delivery)
    return still_pending


def delivery_claim(*, delivery_id: int, force: bool = False) -> Delivery | None:
    """Take the lease on a pending delivery that is due (any time with `force`) and nobody holds, counting the
    attempt. None when another worker holds it, it is not due, or it is no longer pending.

    Durable: the claim must commit before the handler runs, so it refuses to run inside a caller's transaction.
    The attempt is counted here, not after the handler, so a handler that keeps killing its worker still runs out
    of attempts instead of looping.
    """
    now = timezone.now()
    due = Q() if force else Q(next_attempt_at__lte=now)
    with transaction.atomic(durable=True):
        claimed = (
            Delivery.objects.filter(due, pk=delivery_id, status=Delivery.Status.PENDING, attempts__lt=MAX_ATTEMPTS)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .update(leased_until=now + DELIVERY_LEASE, attempts=F("attempts") + 1)
        )
    if claimed != 1:
        return None
    return Delivery.objects.select_related("event").get(pk=delivery_id)


def delivery_run(*, delivery_id: int, force: bool = False) -> Delivery | None:
    """Claim one delivery, run its handler outside any transaction, record the outcome. Returns the delivery as
    recorded, the delivery as it stands when there was nothing to claim, or None when it is not pending."""
    delivery = delivery_claim(delivery_id=delivery_id, force=force)
    if delivery is None:
        return Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING).first()
    fn = registry.handler_by_name(delivery.handler)
    error = ""
    if fn is None:
        error = f"No handler named {delivery.handler} is registered."
    else:
        try:
            fn(delivery.event, delivery_id=delivery.pk)
        except Exception as exc:  # noqa: BLE001 - any handler failure is recorded and retried
            error = f"{exc.__class__.__name__}: {exc}"
    return delivery_outcome_record(delivery=delivery, error=error)


def delivery_outcome_record(*, delivery: Delivery, error: str) -> Delivery:
    """Record how this run's attempt ended, unless the lease was lost meanwhile (the handler outlived it and
    another worker has claimed the delivery since: that run records its own outcome)."""
    now = timezone.now()
    if not error:
        fields = {"status": Delivery.Status.SUCCEEDED, "delivered_at": now, "last_error": ""}
    elif delivery.attempts >= MAX_ATTEMPTS:
        fields = {"status": Delivery.Status.FAILED, "failed_at": now, "last_error": error[:4000]}
    else:
        fields = {"next_attempt_at": now + retry_delay(delivery.attempts), "last_error": error[:4000]}
    fields["leased_until"] = None
    recorded = Delivery.objects.filter(
        pk=delivery.pk, status=Delivery.Status.PENDING, attempts=delivery.attempts
    ).update(**fields)
    if recorded:
        for name, value in fields.items():
            setattr(delivery, name, value)
    else:
        delivery.refresh_from_db()  # the lease was lost: return what the other run recorded
    return delivery


def deliveries_abandoned_fail() -> int:
    """Mark failed the deliveries whose last attempt's worker died: out of attempts, lease expired, still
    pending. Without this they would wait forever, unseen."""
    now = timezone.now()
    return Delivery.objects.filter(
        status=Delivery.Status.PENDING, attempts__gte=MAX_ATTEMPTS, leased_until__lt=now
    ).update(status=Delivery.Status.FAILED, failed_at=now, leased_until=None, last_error=STOPPED_ERROR)


def delivery_once(*, delivery_id: int, effect: Callable[[], object], step: str = "") -> bool:
    """Run a handler's database effect at most once per delivery (and step): the effect and its mark commit
    together, so a delivery run again after a failure or a crash finds the mark and skips the effect. True when
    the effect ran now."""
    try:
        with transaction.atomic():
            DeliveryEffect.objects.create(delivery_id=delivery_id, step=step)
            effect()
    except IntegrityError:
        if DeliveryEffect.objects.filter(delivery_id=delivery_id, step=step).exists():
            return False
        raise
    return True


def delivery_idempotency_key(*, delivery_id: int, step: str = "") -> str:
    """A key for an external API's idempotency header (Stripe's Idempotency-Key): the same for every run of one
    delivery, different across tenants and deliveries."""
    return f"ch-delivery-{connection.schema_name}-{delivery_id}" + (f"-{step}" if step else "")


def delivery_retry(*, delivery: Delivery, actor) -> bool:
    """An admin sends a failed delivery round again, with a fresh set of attempts. False when it was not failed
    (retried by someone else meanwhile)."""
    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.FAILED).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now(), failed_at=None
        )
        if updated:
            # The audit log subscribes (commerce_hub.accounts.handlers): accounts emits events, so the events
            # package does not import it.
            signals.delivery_retried.send(sender=Delivery, delivery=delivery, actor=actor)
            if _enqueue_event is not None:
                _enqueue_event(delivery.event_id)
    return bool(updated)


def deliveries_due_event_ids(limit: int = 500) -> list[int]:
    now = timezone.now()
    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now, attempts__lt=MAX_ATTEMPTS)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .order_by("next_attempt_at")
        .values_list("event_id", flat=True)
        .distinct()[:limit]
    )
