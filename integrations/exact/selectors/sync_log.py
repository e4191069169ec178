"""The sync log page: newest first, filtered by outcome and record kind, keyset pages."""

from __future__ import annotations

from commerce_hub.pagination import Page, keyset_page
from integrations.models import LinkKind, SyncLog

ORDERING = ["-created_at", "-id"]


def sync_log_page(*, status: str = "", kind: str = "", cursor: str | None = None, size: int = 50) -> Page:
    qs = SyncLog.objects.all()
    if status in SyncLog.Status.values:
        qs = qs.filter(status=status)
    if kind in LinkKind.values:
        qs = qs.filter(kind=kind)
    return keyset_page(qs, ordering=ORDERING, cursor=cursor, size=size)
