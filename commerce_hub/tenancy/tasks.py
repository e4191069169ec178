from celery import shared_task

from commerce_hub.celery import PublicTask
from commerce_hub.tenancy.services import spare_pool_fill


@shared_task(name="commerce_hub.tenancy.spare_pool_refill", base=PublicTask)
def spare_pool_refill() -> int:
    return spare_pool_fill()
