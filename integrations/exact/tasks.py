"""Exact Online background work, on the sync queue. Thin: each runs one service in the tenant it was enqueued in.
A rate-limited call retries after the wait Exact asked for, which spreads a burst over the following minutes."""

from celery import shared_task

from commerce_hub.celery import PublicTask, enqueue_for_every_tenant

MAX_RETRIES = 200  # a day's backlog at 60 calls a minute still drains


def _retrying(task, fn):
    from integrations.exact.ratelimit import RateLimited
    from integrations.exact.services.sync import Busy

    try:
        return fn()
    except RateLimited as exc:
        raise task.retry(countdown=exc.retry_after, max_retries=MAX_RETRIES) from exc
    except Busy as exc:
        raise task.retry(countdown=15, max_retries=MAX_RETRIES) from exc


@shared_task(name="integrations.exact.receivables_pull", bind=True)
def receivables_pull(self) -> int:
    from integrations.exact.services.receivables import receivables_pull as pull
    from integrations.exact.tokens import NotConnected

    try:
        return _retrying(self, pull)
    except NotConnected:
        return 0


@shared_task(name="integrations.exact.receivables_pull_all_tenants", base=PublicTask)
def receivables_pull_all_tenants() -> int:
    return enqueue_for_every_tenant(receivables_pull)


@shared_task(name="integrations.exact.push", bind=True)
def push(self, kind: str, object_id: int, actor_id: int | None = None) -> None:
    """A push asked for by hand (the deal panel, the sync log's retry)."""
    from integrations.exact.services.retry import push_again

    _retrying(self, lambda: push_again(kind=kind, object_id=object_id, actor_id=actor_id))
