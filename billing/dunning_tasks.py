"""The dunning retry job: every 15 minutes, one message per tenant; each claims its due retries (SKIP LOCKED, leased)
and hands them to the collector. Thin: the work is billing.services.subscription_dunning.dunning_retries_run."""

from celery import shared_task

from commerce_hub.celery import PublicTask, enqueue_for_every_tenant


@shared_task(name="billing.dunning_retries")
def dunning_retries() -> int:
    from billing.services.subscription_dunning import dunning_retries_run

    return dunning_retries_run()


@shared_task(name="billing.dunning_retries_all_tenants", base=PublicTask)
def dunning_retries_all_tenants() -> int:
    return enqueue_for_every_tenant(dunning_retries)
