"""Webhook work, on its own queue ("payments.webhooks.*" routes to "webhooks"): a slow processor call elsewhere
never delays applying an event. Tasks carry the tenant's schema (commerce_hub.celery)."""

from celery import shared_task

from commerce_hub.celery import PublicTask


@shared_task(name="payments.webhooks.process")
def process() -> int:
    """Apply the tenant's stored events that are due, in order."""
    from payments.webhooks.processing import webhook_events_process

    return webhook_events_process()


@shared_task(name="payments.webhooks.retry_all_tenants", base=PublicTask)
def retry_all_tenants() -> int:
    """The beat job: failed events come due again after their backoff, and an event whose enqueue was lost (a
    broker outage after the commit) is picked up. One message per tenant with a Stripe endpoint."""
    from django.db import connection
    from django_tenants.utils import tenant_context

    from commerce_hub.tenancy.models import InboundEndpoint
    from payments.services.stripe_connect import ENDPOINT_PURPOSE

    count = 0
    for endpoint in InboundEndpoint.objects.filter(purpose=ENDPOINT_PURPOSE).select_related("tenant").iterator():
        with tenant_context(endpoint.tenant):
            process.delay()
        count += 1
    connection.set_schema_to_public()
    return count
