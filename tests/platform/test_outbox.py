from datetime import timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from commerce_hub.accounts.models import AuditEntry
from commerce_hub.events import registry
from commerce_hub.events.models import Delivery, OutboxEvent
from commerce_hub.events.services import MAX_ATTEMPTS, delivery_run, event_deliver, event_emit, retry_delay
from commerce_hub.events.tasks import deliver_event


@pytest.fixture
def flaky_handler():
    """Fails on its first call for each event, then writes one audit row: its observable effect."""
    calls = {}

    def handle(event):
        calls[event.pk] = calls.get(event.pk, 0) + 1
        AuditEntry.objects.create(action="test.effect", object_id=str(event.pk))
        if calls[event.pk] == 1:
            raise ConnectionError("accounting system timed out")

    registry.handler("test.happened", name="tests.flaky")(handle)
    yield calls
    registry.unregister("test.happened", "tests.flaky")


def test_event_is_handed_to_the_worker_only_after_commit(
    tenant_alpha, flaky_handler, django_capture_on_commit_callbacks
):
    sent = []
    with mock.patch.object(deliver_event, "apply_async", lambda *a, **kw: sent.append((a, kw))):
        with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
            event = event_emit(name="test.happened", payload={"invoice": 7})
        assert sent == []  # nothing reaches the broker while the transaction is open
        assert len(callbacks) == 1
        callbacks[0]()  # what Django runs at commit
    # Enqueued once, for this event, carrying the schema it was emitted in (not the one active at commit time).
    assert sent == [(((event.pk,), {}), {"headers": {"_schema_name": "t_alpha"}})]
    delivery = Delivery.objects.get(event=event)
    assert (delivery.handler, delivery.status) == ("tests.flaky", Delivery.Status.PENDING)


def test_rolled_back_event_is_neither_stored_nor_delivered(
    tenant_alpha, flaky_handler, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        event_emit(name="test.happened", payload={})
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert not OutboxEvent.objects.exists()


def test_emit_outside_a_transaction_is_refused(tenant_alpha):
    # pytest-django wraps the test in a transaction; leave it to see the guard.
    assert connection.in_atomic_block
    with (
        mock.patch.object(type(connection), "in_atomic_block", False, create=True),
        pytest.raises(RuntimeError, match="inside the transaction"),
    ):
        event_emit(name="test.happened", payload={})


def test_failing_handler_is_retried_with_backoff_and_its_effect_happens_once(tenant_alpha, flaky_handler):
    with transaction.atomic():
        event = event_emit(name="test.happened", payload={})
    pending = event_deliver(event_id=event.pk)
    delivery = Delivery.objects.get(event=event)
    assert [d.pk for d in pending] == [delivery.pk]
    assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 1)
    assert delivery.last_error == "ConnectionError: accounting system timed out"
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=8)
    # The failed attempt's write was rolled back with it.
    assert AuditEntry.objects.filter(action="test.effect").count() == 0

    # Not due yet: a sweep leaves it alone.
    assert event_deliver(event_id=event.pk)[0].attempts == 1
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert event_deliver(event_id=event.pk) == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Delivery.Status.SUCCEEDED, 2, "")
    assert AuditEntry.objects.filter(action="test.effect").count() == 1
    # At-least-once delivery may run the task again; a succeeded delivery is not run twice.
    deliver_event.run(event.pk)
    assert delivery_run(delivery_id=delivery.pk, force=True) is None  # nothing pending to run
    assert flaky_handler[event.pk] == 2
    assert AuditEntry.objects.filter(action="test.effect").count() == 1


def test_delivery_gives_up_after_max_attempts_and_an_admin_can_retry(admin_client, admin_user):
    def always_fails(event):
        raise ValueError("bad mapping")

    registry.handler("test.broken", name="tests.always_fails")(always_fails)
    try:
        with transaction.atomic():
            event = event_emit(name="test.broken", payload={})
        delivery = Delivery.objects.get(event=event)
        for _ in range(MAX_ATTEMPTS):
            delivery_run(delivery_id=delivery.pk, force=True)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, MAX_ATTEMPTS)
        page = admin_client.get("/settings/events/?status=failed")
        assert "ValueError: bad mapping" in page.content.decode()
        admin_client.post(f"/settings/events/{delivery.pk}/retry/")
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, 0)
        assert AuditEntry.objects.filter(action="event.delivery_retried").count() == 1
    finally:
        registry.unregister("test.broken", "tests.always_fails")


def test_one_delivery_per_event_and_handler(tenant_alpha):
    event = OutboxEvent.objects.create(name="x", payload={})
    Delivery.objects.create(event=event, handler="h")
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(event=event, handler="h")


def test_retry_delay_doubles_and_caps_at_an_hour():
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert retry_delay(30).total_seconds() == 3600
