from celery import shared_task

from commerce_hub.celery import PublicTask
from commerce_hub.tenancy.services import SPARE_POOL_REFILL_TASK, spare_pool_fill


@shared_task(name=SPARE_POOL_REFILL_TASK, base=PublicTask)
def spare_pool_refill() -> int:
    return spare_pool_fill()
