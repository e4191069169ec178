from celery import shared_task
from django.core.cache import cache
from django.db import connection


@shared_task(name="commerce_hub.worker_heartbeat", ignore_result=False)
def worker_heartbeat(token: str) -> dict:
    """Proves a worker runs tenant tasks in the right schema: reads the tenant's profile, writes a tenant-scoped
    cache key, and returns both. Monitoring enqueues it per tenant and alerts when no answer comes back."""
    from commerce_hub.organization.selectors import organization_profile_get

    answer = {"schema": connection.schema_name, "organization": organization_profile_get().legal_name}
    cache.set(f"worker-heartbeat:{token}", answer, timeout=300)
    return answer
