"""The domain events the connector listens to: a created company reaches Exact from its outbox delivery, and a
tenant that never connected skips quietly while one that must reconnect fails loudly (the delivery retries)."""

import pytest

from commerce_hub.events.models import Delivery, OutboxEvent
from commerce_hub.events.registry import handler_by_name
from crm.services.records import record_create
from integrations.exact.tokens import ReconnectNeeded
from integrations.models import ConnectionState, ExactConnection


def _run(name: str, event_name: str):
    event = OutboxEvent.objects.filter(name=event_name).latest("id")
    delivery = Delivery.objects.get(event=event, handler=name)
    handler_by_name(name)(event, delivery_id=delivery.pk)


def test_a_created_company_is_pushed_from_its_event(exact, admin_user):
    record_create(object_type="company", data={"name": "Evented BV", "country": "NL"}, actor=admin_user)
    _run("integrations.exact.company_created", "company.created")
    assert [r["Name"] for r in exact.rows("crm/Accounts")] == ["Evented BV"]


def test_without_a_connection_events_are_skipped(fake_exact, admin_user):
    record_create(object_type="company", data={"name": "Quiet BV", "country": "NL"}, actor=admin_user)
    _run("integrations.exact.company_created", "company.created")
    assert fake_exact.rows("crm/Accounts") == []
    assert fake_exact.state.calls == []


def test_reconnect_needed_makes_the_delivery_fail_for_a_retry(exact, admin_user):
    ExactConnection.objects.filter(pk=1).update(state=ConnectionState.RECONNECT)
    record_create(object_type="company", data={"name": "Later BV", "country": "NL"}, actor=admin_user)
    with pytest.raises(ReconnectNeeded):
        _run("integrations.exact.company_created", "company.created")
