from celery import shared_task

from commerce_hub.celery import PublicTask, enqueue_for_every_tenant
from commerce_hub.idempotency.services import idempotency_keys_prune


@shared_task(name="commerce_hub.idempotency.prune")
def prune() -> int:
    return idempotency_keys_prune()


@shared_task(name="commerce_hub.idempotency.prune_all_tenants", base=PublicTask)
def prune_all_tenants() -> int:
    return enqueue_for_every_tenant(prune)
