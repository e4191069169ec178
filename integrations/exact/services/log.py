"""The sync log: one row per operation against Exact, with the request and answer of its last call."""

from __future__ import annotations

from integrations.exact.client import ExactClient
from integrations.models import SyncLog


def sync_log_write(
    *,
    operation: str,
    status: str,
    client: ExactClient | None = None,
    kind: str = "",
    object_id: int | None = None,
    error: str = "",
    attempts: int = 1,
) -> SyncLog:
    last = client.last if client is not None else None
    return SyncLog.objects.create(
        operation=operation,
        kind=kind,
        object_id=object_id,
        method=last.method if last else "",
        path=(last.path if last else "")[:300],
        request=(last.request if last else "")[:20000],
        response=(last.response if last else "")[:20000],
        status_code=last.status if last else None,
        status=status,
        error=error[:4000],
        attempts=attempts,
    )
