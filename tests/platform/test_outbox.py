from datetime import timedelta
from unittest import mock

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from commerce_hub.accounts.models import AuditEntry
from commerce_hub.events import backoff, catalogue, registry
from commerce_hub.events.models import Delivery, DeliveryEffect, OutboxEvent
from commerce_hub.events.services import (
    DELIVERY_LEASE,
    MAX_ATTEMPTS,
    STOPPED_ERROR,
    deliveries_abandoned_fail,
    delivery_claim,
    delivery_idempotency_key,
    delivery_once,
    delivery_run,
    event_deliver,
    event_emit,
    events_emit,
)
from commerce_hub.events.tasks import deliver_event, sweep_tenant

HAPPENED = catalogue.event_declare("test.happened", app="tests", fields=("invoice",))
BROKEN = catalogue.event_declare("test.broken", app="tests", fields=())


@pytest.fixture
def effects():
    """A handler that fails its first `fail_times` runs of each delivery, and writes its effect (an audit row)
    through delivery_once before failing: the way a real handler writes, then calls an API that times out."""
    state = {"fail_times": 1, "calls": [], "delivery_ids": []}

    def handle(event, *, delivery_id):
        state["calls"].append(event.pk)
        state["delivery_ids"].append(delivery_id)
        delivery_once(
            delivery_id=delivery_id,
            effect=lambda: AuditEntry.objects.create(action="test.effect", object_id=str(event.pk)),
        )
        if state["calls"].count(event.pk) <= state["fail_times"]:
            raise ConnectionError("accounting system timed out")

    registry.handler(HAPPENED, name="tests.flaky")(handle)
    yield state
    registry.unregister(HAPPENED, "tests.flaky")


def _effect_count() -> int:
    return AuditEntry.objects.filter(action="test.effect").count()


def _emit(payload=None) -> OutboxEvent:
    with mock.patch.object(deliver_event, "apply_async"), transaction.atomic():
        return event_emit(name=HAPPENED, payload=payload or {"invoice": 7})


# --- the catalogue ------------------------------------------------------------------------------------------------


def test_event_is_handed_to_the_worker_only_after_commit(tenant_alpha, effects, django_capture_on_commit_callbacks):
    sent = []
    with mock.patch.object(deliver_event, "apply_async", lambda *a, **kw: sent.append((a, kw))):
        with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
            event = event_emit(name=HAPPENED, payload={"invoice": 7})
        assert sent == []  # nothing reaches the broker while the transaction is open
        assert len(callbacks) == 1
        callbacks[0]()  # what Django runs at commit
    # Enqueued once, for this event, carrying the schema it was emitted in (not the one active at commit time).
    assert sent == [(((event.pk,), {}), {"headers": {"_schema_name": "t_alpha"}})]
    delivery = Delivery.objects.get(event=event)
    assert (delivery.handler, delivery.status, event.name) == ("tests.flaky", Delivery.Status.PENDING, "test.happened")


def test_a_batch_of_events_is_stored_with_a_delivery_each_and_handed_over_one_by_one_after_commit(
    tenant_alpha, effects, django_capture_on_commit_callbacks
):
    sent = []
    with mock.patch.object(deliver_event, "apply_async", lambda *a, **kw: sent.append(a[0][0])):
        with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
            events = events_emit(name=HAPPENED, payloads=[{"invoice": 7}, {"invoice": 8}, {"invoice": 9}])
        assert sent == []
        for callback in callbacks:
            callback()
    assert [e.payload for e in OutboxEvent.objects.order_by("id")] == [{"invoice": 7}, {"invoice": 8}, {"invoice": 9}]
    assert sent == [e.pk for e in events] == list(OutboxEvent.objects.order_by("id").values_list("id", flat=True))
    assert sorted(Delivery.objects.values_list("event_id", "handler")) == [(e.pk, "tests.flaky") for e in events]


def test_a_batch_with_one_payload_missing_its_fields_stores_none_of_its_events(tenant_alpha):
    refused = pytest.raises(catalogue.EventPayloadError, match="test.happened needs the payload fields invoice")
    with refused, transaction.atomic():
        events_emit(name=HAPPENED, payloads=[{"invoice": 7}, {"number": "INV-1"}])
    assert not OutboxEvent.objects.exists()


def test_an_event_that_is_not_in_the_catalogue_is_refused(tenant_alpha):
    kind = "contact"
    refused = pytest.raises(catalogue.UnknownEventError, match="'contact.merged' is not in the catalogue")
    with refused, transaction.atomic():
        event_emit(name=f"{kind}.merged", payload={"id": 1})
    with pytest.raises(catalogue.UnknownEventError, match="'invoice.finalised' is not in the catalogue"):
        registry.handler("invoice.finalised", name="tests.typo")
    assert not OutboxEvent.objects.exists()


def test_a_payload_without_its_declared_fields_is_refused(tenant_alpha):
    refused = pytest.raises(catalogue.EventPayloadError, match="test.happened needs the payload fields invoice")
    with refused, transaction.atomic():
        event_emit(name=HAPPENED, payload={"number": "INV-1"})
    assert not OutboxEvent.objects.exists()


def test_every_app_declares_its_events_with_version_and_fields():
    from billing import events as billing_events
    from crm import events as crm_events

    by_name = {e.name: e for e in catalogue.event_types()}
    assert by_name["invoice.finalized"] is billing_events.INVOICE_FINALIZED
    assert by_name["invoice.payment_reversed"].fields == ("id", "payment_id", "amount", "currency")
    assert by_name["customer_credit.added"].fields == ("account", "currency", "amount", "entry_id")
    assert by_name["customer_credit.applied"].fields == ("account", "currency", "amount", "invoice_id")
    assert by_name["invoice.credited"].fields == ("id",)
    assert (by_name["company.bulk_created"].app, by_name["company.bulk_created"].version) == ("crm", 1)
    assert crm_events.RECORD_UPDATED["deal"] is crm_events.DEAL_UPDATED
    assert by_name["user.invited"].app == "commerce_hub"


def test_the_catalogue_command_lists_every_event(capsys):
    import json

    from django.core.management import call_command

    call_command("events_catalogue", "--json")
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert listed["invoice.payment_recorded"] == {
        "name": "invoice.payment_recorded",
        "version": 1,
        "app": "billing",
        "fields": ["id", "payment_id", "amount", "currency"],
        "optional": [],
        "description": "",
    }
    call_command("events_catalogue")
    table = capsys.readouterr().out
    assert "invoice.finalized" in table and "id, number" in table and "billing" in table


def test_rolled_back_event_is_neither_stored_nor_delivered(tenant_alpha, effects, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        event_emit(name=HAPPENED, payload={"invoice": 7})
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
        event_emit(name=HAPPENED, payload={"invoice": 7})


# --- delivery -----------------------------------------------------------------------------------------------------


def test_a_handler_failing_ten_times_then_succeeding_has_one_effect(tenant_alpha, effects):
    effects["fail_times"] = 10
    event = _emit()
    delivery = Delivery.objects.get(event=event)
    for attempt in range(1, 11):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        assert event_deliver(event_id=event.pk)[0].attempts == attempt
        delivery.refresh_from_db()
        assert (delivery.status, delivery.leased_until) == (Delivery.Status.PENDING, None)
        assert delivery.last_error == "ConnectionError: accounting system timed out"
        # Backing off: due again only later, so the sweep leaves it alone meanwhile.
        assert delivery.next_attempt_at >= timezone.now() + backoff.retry_delay_floor(attempt) - timedelta(seconds=1)
        assert event_deliver(event_id=event.pk)[0].attempts == attempt
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert event_deliver(event_id=event.pk) == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (Delivery.Status.SUCCEEDED, 11, "")
    assert effects["calls"] == [event.pk] * 11
    assert set(effects["delivery_ids"]) == {delivery.pk}  # every run is told which delivery it is
    assert _effect_count() == 1
    assert DeliveryEffect.objects.filter(delivery=delivery).count() == 1
    # At-least-once delivery may run the task again; a succeeded delivery is not run twice.
    deliver_event.run(event.pk)
    assert delivery_run(delivery_id=delivery.pk, force=True) is None
    assert len(effects["calls"]) == 11 and _effect_count() == 1


def test_a_worker_killed_mid_handler_leaves_a_lease_and_the_next_run_has_the_effect_once(tenant_alpha, effects):
    effects["fail_times"] = 0
    event = _emit()
    delivery = Delivery.objects.get(event=event)
    # Worker A claims, runs the handler (its effect commits), and is killed before it records the outcome.
    claimed = delivery_claim(delivery_id=delivery.pk)
    assert claimed.attempts == 1
    assert claimed.leased_until > timezone.now() + DELIVERY_LEASE - timedelta(seconds=5)
    registry.handler_by_name("tests.flaky")(claimed.event, delivery_id=claimed.pk)
    assert _effect_count() == 1
    # While the lease holds, nobody else runs it: not worker B, not the sweep.
    assert delivery_claim(delivery_id=delivery.pk) is None
    assert sweep_tenant.run() == 0
    assert len(effects["calls"]) == 1
    # The lease runs out; the sweep runs the delivery again, and the handler does not repeat its effect.
    Delivery.objects.filter(pk=delivery.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert sweep_tenant.run() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.leased_until) == (Delivery.Status.SUCCEEDED, 2, None)
    assert len(effects["calls"]) == 2
    assert _effect_count() == 1


def test_a_worker_that_outlived_its_lease_does_not_overwrite_the_next_runs_outcome(tenant_alpha, effects):
    effects["fail_times"] = 0
    event = _emit()
    delivery = Delivery.objects.get(event=event)
    slow = delivery_claim(delivery_id=delivery.pk)
    Delivery.objects.filter(pk=delivery.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    fast = delivery_run(delivery_id=delivery.pk)
    assert (fast.status, fast.attempts) == (Delivery.Status.SUCCEEDED, 2)
    from commerce_hub.events.services import delivery_outcome_record

    late = delivery_outcome_record(delivery=slow, error="TimeoutError: too late")
    assert (late.status, late.last_error) == (Delivery.Status.SUCCEEDED, "")


def test_a_delivery_whose_worker_died_on_its_last_attempt_is_marked_failed(tenant_alpha, effects):
    event = _emit()
    delivery = Delivery.objects.get(event=event)
    Delivery.objects.filter(pk=delivery.pk).update(
        attempts=MAX_ATTEMPTS, leased_until=timezone.now() - timedelta(seconds=1)
    )
    assert delivery_claim(delivery_id=delivery.pk, force=True) is None  # out of attempts: not run again
    assert deliveries_abandoned_fail() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.last_error) == (Delivery.Status.FAILED, STOPPED_ERROR)
    assert delivery.failed_at is not None
    assert effects["calls"] == []


def test_the_claim_refuses_to_run_inside_a_callers_transaction(tenant_alpha, effects):
    event = _emit()
    delivery = Delivery.objects.get(event=event)
    with pytest.raises(RuntimeError, match="durable"), transaction.atomic():
        delivery_run(delivery_id=delivery.pk)
    assert effects["calls"] == []


def test_idempotency_keys_are_stable_per_delivery_and_tenant(tenant_alpha):
    assert delivery_idempotency_key(delivery_id=42) == "ch-delivery-t_alpha-42"
    assert delivery_idempotency_key(delivery_id=42, step="charge") == "ch-delivery-t_alpha-42-charge"


def test_one_delivery_per_event_and_handler(tenant_alpha):
    event = OutboxEvent.objects.create(name="x", payload={})
    Delivery.objects.create(event=event, handler="h")
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(event=event, handler="h")


# --- giving up, and the admin page -------------------------------------------------------------------------------


def test_the_backoff_is_exponential_and_retries_for_at_least_three_days():
    floors = [backoff.retry_delay_floor(n).total_seconds() for n in range(1, 13)]
    assert floors == [30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]
    # From the first attempt to the last (MAX_ATTEMPTS attempts, MAX_ATTEMPTS - 1 waits), jitter only adds.
    window = sum((backoff.retry_delay_floor(n) for n in range(1, MAX_ATTEMPTS)), timedelta())
    assert window == backoff.retry_window() == timedelta(hours=86, minutes=31, seconds=30)
    assert window >= timedelta(days=3)
    for n in (1, 5, 20):
        for _ in range(50):
            floor = backoff.retry_delay_floor(n)
            assert floor <= backoff.retry_delay(n) <= floor * 1.25


def test_delivery_gives_up_after_max_attempts_shows_on_the_page_and_an_admin_can_retry(admin_client, admin_user):
    def always_fails(event, *, delivery_id):
        raise ValueError("bad mapping")

    registry.handler(BROKEN, name="tests.always_fails")(always_fails)
    try:
        with mock.patch.object(deliver_event, "apply_async"), transaction.atomic():
            event = event_emit(name=BROKEN, payload={})
        delivery = Delivery.objects.get(event=event)
        for _ in range(MAX_ATTEMPTS - 1):
            delivery_run(delivery_id=delivery.pk, force=True)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (Delivery.Status.PENDING, MAX_ATTEMPTS - 1)
        delivery_run(delivery_id=delivery.pk, force=True)
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, MAX_ATTEMPTS)
        assert delivery.failed_at is not None
        page = admin_client.get("/settings/events/?status=failed").content.decode()
        assert "ValueError: bad mapping" in page and "test.broken" in page
        assert f'action="/settings/events/{delivery.pk}/retry/"' in page and "data-confirm=" in page
        assert admin_client.get(f"/settings/events/{delivery.pk}/retry/").status_code == 405  # POST only

        with mock.patch.object(deliver_event, "apply_async") as enqueue:
            response = admin_client.post(f"/settings/events/{delivery.pk}/retry/")
        assert response.status_code == 302
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.failed_at) == (Delivery.Status.PENDING, 0, None)
        assert AuditEntry.objects.filter(action="event.delivery_retried").count() == 1
        # The retry runs: this time the handler's partner is back.
        registry.unregister(BROKEN, "tests.always_fails")
        registry.handler(BROKEN, name="tests.always_fails")(lambda event, *, delivery_id: None)
        assert event_deliver(event_id=event.pk) == []
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.SUCCEEDED
        # A second click on a stale page queues nothing more.
        admin_client.post(f"/settings/events/{delivery.pk}/retry/")
        assert AuditEntry.objects.filter(action="event.delivery_retried").count() == 1
        assert enqueue.call_count <= 1
    finally:
        registry.unregister(BROKEN, "tests.always_fails")


def test_reading_the_page_needs_the_audit_permission_and_retrying_needs_settings(client_alpha, admin_user):
    from commerce_hub.accounts.models import Role
    from tests.conftest import user_make

    client_alpha.force_login(user_make(Role.SALES))
    assert client_alpha.get("/settings/events/").status_code == 403
    event = OutboxEvent.objects.create(name="test.broken", payload={})
    delivery = Delivery.objects.create(event=event, handler="h", status=Delivery.Status.FAILED)
    assert client_alpha.post(f"/settings/events/{delivery.pk}/retry/").status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED


def test_the_handler_runs_outside_any_transaction_holding_no_lock(django_db_setup, live_tenant):
    """With real commits (no test transaction): while the handler runs, another connection can lock the delivery
    row at once, so the handler may take its time calling an HTTP API."""
    import psycopg

    seen = {}
    dsn = {k: v for k, v in connection.get_connection_params().items() if k in ("host", "port", "user", "password")}
    dsn["dbname"] = connection.settings_dict["NAME"]

    def handle(event, *, delivery_id):
        seen["in_transaction"] = connection.in_atomic_block
        with psycopg.connect(**dsn, autocommit=True) as other:
            other.execute("SET lock_timeout = '1s'")
            row = other.execute(
                f'SELECT status, attempts FROM "{connection.schema_name}".events_delivery WHERE id = %s '
                "FOR UPDATE NOWAIT",
                [delivery_id],
            ).fetchone()
        seen["row_from_another_connection"] = row

    registry.handler(HAPPENED, name="tests.observer")(handle)
    try:
        with mock.patch.object(deliver_event, "apply_async"), transaction.atomic():
            event = event_emit(name=HAPPENED, payload={"invoice": 7})
        delivery = Delivery.objects.get(event=event)
        delivery_run(delivery_id=delivery.pk)
    finally:
        registry.unregister(HAPPENED, "tests.observer")
    # The claim had committed: the other connection sees the attempt counted, and nothing holds the row.
    assert seen == {"in_transaction": False, "row_from_another_connection": ("pending", 1)}
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
