"""A record's activity timeline: items from every registered provider, merged newest first.

Providers are plain functions registered per object type; other apps add theirs (quotes, invoices, payments of a
deal) from their AppConfig.ready() without this module knowing them:

    @timeline_provider("deal")
    def quote_items(record, *, before, limit):
        qs = record.quotes.order_by("-created_at", "-id")
        if before is not None:
            qs = qs.filter(created_at__lte=before)
        return [
            TimelineItem(when=q.created_at, template="billing/timeline/quote.html", obj=q, kind="quote", key=q.pk)
            for q in qs[:limit]
        ]

The contract: at most `limit` items at or before `before` (None: from the newest), newest first and, within one
instant, by descending key. `kind` names the provider's kind of item (one kind per provider) and `key` orders items
of one kind written in the same instant. Each item renders with its own template, which gets `item`, `record`,
`object_type` and `can_edit`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db.models import Model

from crm.models import DealStageChange
from crm.services.records import object_type_of

PAGE_SIZE = 50
_SALT = "crm.timeline"

Provider = Callable[..., Iterable["TimelineItem"]]
_PROVIDERS: dict[str, list[Provider]] = defaultdict(list)


@dataclass(frozen=True)
class TimelineItem:
    when: datetime
    template: str
    obj: object = None
    kind: str = ""
    key: int = 0

    @property
    def position(self) -> tuple:
        """The item's place in the timeline; the merged list is sorted by it, descending."""
        return (self.when, self.kind, self.key)


@dataclass
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: str | None


@dataclass(frozen=True)
class _Cursor:
    after: tuple  # position of the last item shown
    shown_at_instant: int  # how many items at after[0] were shown on this and earlier pages


def timeline_provider(*object_types: str):
    """Register a provider for companies, contacts and/or deals. Registering the same function twice is a no-op."""

    def register(fn: Provider) -> Provider:
        for object_type in object_types:
            if fn not in _PROVIDERS[object_type]:
                _PROVIDERS[object_type].append(fn)
        return fn

    return register


def timeline_page(record: Model, *, cursor: str | None = None, limit: int | None = None) -> TimelinePage:
    limit = limit or PAGE_SIZE
    start = _cursor_load(cursor)
    before = start.after[0] if start else None
    # Providers return items at or before the last instant shown, so items of that instant already shown come back
    # too; asking each for that many more keeps enough new ones. limit + 1 says whether there is a next page.
    fetch = limit + 1 + (start.shown_at_instant if start else 0)
    items: list[TimelineItem] = []
    for provider in _PROVIDERS[object_type_of(record)]:
        items.extend(provider(record, before=before, limit=fetch))
    items.sort(key=lambda item: item.position, reverse=True)
    if start:
        items = [item for item in items if item.position < start.after]
    shown = items[:limit]
    if len(items) <= limit:
        return TimelinePage(items=shown, next_cursor=None)
    last = shown[-1]
    at_instant = sum(1 for item in shown if item.when == last.when)
    if start and start.after[0] == last.when:
        at_instant += start.shown_at_instant
    return TimelinePage(items=shown, next_cursor=_cursor_dump(_Cursor(last.position, at_instant)))


def _cursor_dump(cursor: _Cursor) -> str:
    when, kind, key = cursor.after
    return signing.dumps([when.isoformat(), kind, key, cursor.shown_at_instant], salt=_SALT, compress=True)


def _cursor_load(cursor: str | None) -> _Cursor | None:
    if not cursor:
        return None
    try:
        when, kind, key, shown = signing.loads(cursor, salt=_SALT)
        return _Cursor((datetime.fromisoformat(when), str(kind), int(key)), int(shown))
    except (signing.BadSignature, TypeError, ValueError):
        return None


# --- built-in providers ------------------------------------------------------------------------------------------


def _up_to(qs, field: str, before: datetime | None):
    return qs.filter(**{f"{field}__lte": before}) if before is not None else qs


@timeline_provider("company", "contact", "deal")
def note_items(record, *, before, limit):
    qs = _up_to(record.notes.select_related("author"), "created_at", before).order_by("-created_at", "-id")
    return [
        TimelineItem(when=n.created_at, template="crm/record/timeline/note.html", obj=n, kind="note", key=n.pk)
        for n in qs[:limit]
    ]


@timeline_provider("company", "contact", "deal")
def task_created_items(record, *, before, limit):
    qs = _up_to(record.tasks.select_related("owner"), "created_at", before).order_by("-created_at", "-id")
    return [
        TimelineItem(
            when=t.created_at, template="crm/record/timeline/task_created.html", obj=t, kind="task_created", key=t.pk
        )
        for t in qs[:limit]
    ]


@timeline_provider("company", "contact", "deal")
def task_completed_items(record, *, before, limit):
    qs = _up_to(record.tasks.filter(completed_at__isnull=False), "completed_at", before)
    return [
        TimelineItem(
            when=t.completed_at,
            template="crm/record/timeline/task_completed.html",
            obj=t,
            kind="task_completed",
            key=t.pk,
        )
        for t in qs.order_by("-completed_at", "-id")[:limit]
    ]


@timeline_provider("deal")
def stage_change_items(record, *, before, limit):
    # The first entry (no from-stage) is the deal's creation, which the "created" item already shows.
    qs = DealStageChange.objects.filter(deal=record, from_stage__isnull=False).select_related(
        "from_stage", "to_stage", "changed_by"
    )
    qs = _up_to(qs, "changed_at", before).order_by("-changed_at", "-id")
    return [
        TimelineItem(
            when=c.changed_at, template="crm/record/timeline/stage_change.html", obj=c, kind="stage_change", key=c.pk
        )
        for c in qs[:limit]
    ]


@timeline_provider("company", "contact", "deal")
def created_items(record, *, before, limit):
    if before is not None and record.created_at > before:
        return []
    return [
        TimelineItem(
            when=record.created_at,
            template="crm/record/timeline/created.html",
            obj=record,
            kind="created",
            key=record.pk,
        )
    ]
