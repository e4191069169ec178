"""Quote background work: the hourly expiry across tenants. Tasks are thin: they load nothing and call one service."""

from celery import shared_task

from commerce_hub.celery import PublicTask, enqueue_for_every_tenant


@shared_task(name="billing.quotes_expire")
def quotes_expire() -> int:
    """Expire the tenant's quotes past their date; "today" is the tenant's, in its own timezone."""
    from billing.services.quote_publishing import quotes_expire as expire

    return len(expire())


@shared_task(name="billing.quotes_expire_all_tenants", base=PublicTask)
def quotes_expire_all_tenants() -> int:
    return enqueue_for_every_tenant(quotes_expire)
