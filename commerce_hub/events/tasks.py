from celery import shared_task
from django.utils import timezone

from commerce_hub.celery import PublicTask, enqueue_for_every_tenant
from commerce_hub.events import services


@shared_task(name="commerce_hub.events.deliver_event", bind=True, max_retries=None)
def deliver_event(self, event_id: int) -> None:
    pending = services.event_deliver(event_id=event_id)
    if pending:
        delay = min(d.next_attempt_at for d in pending) - timezone.now()
        raise self.retry(countdown=max(delay.total_seconds(), 1))


@shared_task(name="commerce_hub.events.sweep_tenant")
def sweep_tenant() -> int:
    """Deliver whatever is due in this tenant: retries, and events and emails whose first enqueue was lost."""
    from commerce_hub.mail import email_deliver, emails_due_ids

    event_ids = services.deliveries_due_event_ids()
    for event_id in event_ids:
        services.event_deliver(event_id=event_id)
    email_ids = emails_due_ids()
    for email_id in email_ids:
        email_deliver(email_id=email_id)
    return len(event_ids) + len(email_ids)


@shared_task(name="commerce_hub.events.sweep_all_tenants", base=PublicTask)
def sweep_all_tenants() -> int:
    return enqueue_for_every_tenant(sweep_tenant)
