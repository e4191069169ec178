"""Thin tasks over the outbox services. These import the services; the services reach the delivery task through
the enqueue hook set below (the module is imported by EventsConfig.ready), never by importing this module."""

from celery import shared_task
from django.utils import timezone

from commerce_hub.celery import PublicTask, enqueue_for_every_tenant
from commerce_hub.events import digest, mail, services

DIGEST_TASK = "commerce_hub.events.failure_digest_send"


@shared_task(name="commerce_hub.events.deliver_event")
def deliver_event(event_id: int) -> int:
    """Run the event's due deliveries. Retries are the sweep's: it runs every minute, and a message waiting hours
    for its countdown would outlive the broker's visibility timeout."""
    return len(services.event_deliver(event_id=event_id))


services.event_enqueuer_set(deliver_event.delay_on_commit)


@shared_task(name="commerce_hub.events.sweep_tenant")
def sweep_tenant() -> int:
    """Deliver whatever is due in this tenant: retries, and events and emails whose first enqueue was lost; mark
    failed what a dead worker left on its last attempt."""
    services.deliveries_abandoned_fail()
    mail.emails_abandoned_fail()
    event_ids = services.deliveries_due_event_ids()
    for event_id in event_ids:
        services.event_deliver(event_id=event_id)
    email_ids = mail.emails_due_ids()
    for email_id in email_ids:
        mail.email_deliver(email_id=email_id)
    return len(event_ids) + len(email_ids)


@shared_task(name="commerce_hub.events.sweep_all_tenants", base=PublicTask)
def sweep_all_tenants() -> int:
    return enqueue_for_every_tenant(sweep_tenant)


@shared_task(name="commerce_hub.events.failure_digest_tenant")
def failure_digest_tenant() -> int:
    """The admins' daily email of failed deliveries and emails, once per day in this tenant."""
    return digest.failure_digest_send(today=timezone.localdate())


@shared_task(name=DIGEST_TASK, base=PublicTask)
def failure_digest_all_tenants() -> int:
    return enqueue_for_every_tenant(failure_digest_tenant)
