from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from commerce_hub import request_context
from commerce_hub.events import registry
from commerce_hub.events.models import Delivery, OutboxEvent

MAX_ATTEMPTS = 8


def event_emit(*, name: str, payload: dict) -> OutboxEvent:
    """Record a domain event inside the caller's transaction; deliver it only once that transaction commits.

    If the transaction rolls back, the event row goes with it and nothing is delivered.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("event_emit must be called inside the transaction that makes the change.")
    event = OutboxEvent.objects.create(name=name, payload=payload, request_id=request_context.current().request_id)
    Delivery.objects.bulk_create([Delivery(event=event, handler=key) for key in registry.handlers_for(name)])
    from commerce_hub.events.tasks import deliver_event

    deliver_event.delay_on_commit(event.pk)
    return event


def retry_delay(attempts: int) -> timedelta:
    # 10 s, 20 s, 40 s ... capped at one hour.
    return timedelta(seconds=min(10 * 2 ** max(attempts - 1, 0), 3600))


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


def delivery_run(*, delivery_id: int, force: bool = False) -> Delivery | None:
    """Run one delivery. The handler's writes and the 'succeeded' mark commit together, so a handler that only
    writes to the database has its effect exactly once even though delivery is at least once.

    The row lock (skip_locked) keeps two workers from running the same delivery at the same moment.
    """
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .select_related("event")
            .filter(pk=delivery_id, status=Delivery.Status.PENDING)
            .first()
        )
        if delivery is None or (not force and delivery.next_attempt_at > timezone.now()):
            return delivery
        fn = registry.handler_by_name(delivery.handler)
        error = ""
        if fn is None:
            error = f"No handler named {delivery.handler} is registered."
        else:
            try:
                with transaction.atomic():
                    fn(delivery.event)
            except Exception as exc:  # noqa: BLE001 - any handler failure is recorded and retried
                error = f"{exc.__class__.__name__}: {exc}"
        delivery.attempts += 1
        if not error:
            delivery.status = Delivery.Status.SUCCEEDED
            delivery.delivered_at = timezone.now()
            delivery.last_error = ""
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = Delivery.Status.FAILED
            delivery.last_error = error[:4000]
        else:
            delivery.next_attempt_at = timezone.now() + retry_delay(delivery.attempts)
            delivery.last_error = error[:4000]
        delivery.save(update_fields=["attempts", "status", "delivered_at", "last_error", "next_attempt_at"])
    return delivery


def delivery_retry(*, delivery: Delivery, actor) -> None:
    """An admin sends a failed delivery round again (with a fresh set of attempts)."""
    from commerce_hub.accounts.services.audit import audit_record

    with transaction.atomic():
        updated = Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.FAILED).update(
            status=Delivery.Status.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        if updated:
            audit_record(
                actor=actor,
                action="event.delivery_retried",
                obj=delivery,
                object_repr=f"{delivery.event.name} → {delivery.handler}",
            )
            from commerce_hub.events.tasks import deliver_event

            deliver_event.delay_on_commit(delivery.event_id)


def deliveries_due_event_ids(limit: int = 500) -> list[int]:
    return list(
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("next_attempt_at")
        .values_list("event_id", flat=True)
        .distinct()[:limit]
    )
