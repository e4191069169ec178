"""A record's activity timeline: items from every registered provider, merged newest first.

Providers are plain functions registered per object type; other apps add theirs (quotes, invoices, payments of a
deal) from their AppConfig.ready() without this module knowing them:

    @timeline_provider("deal")
    def quote_items(record, *, before, limit):
        qs = record.quotes.order_by("-created_at")
        if before is not None:
            qs = qs.filter(created_at__lt=before)
        return [TimelineItem(when=q.created_at, template="billing/timeline/quote.html", obj=q) for q in qs[:limit]]

A provider returns at most `limit` of its newest items strictly older than `before` (None: from the newest).
Each item renders with its own template, which gets `item` (and `record`) in its context.
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


@dataclass
class TimelinePage:
    items: list[TimelineItem]
    next_cursor: str | None


def timeline_provider(*object_types: str):
    """Register a provider for companies, contacts and/or deals. Registering the same function twice is a no-op."""

    def register(fn: Provider) -> Provider:
        for object_type in object_types:
            if fn not in _PROVIDERS[object_type]:
                _PROVIDERS[object_type].append(fn)
        return fn

    return register


def timeline_page(record: Model, *, cursor: str | None = None, limit: int = PAGE_SIZE) -> TimelinePage:
    before = _cursor_load(cursor)
    items: list[TimelineItem] = []
    for provider in _PROVIDERS[object_type_of(record)]:
        # limit + 1 from each: the newest limit + 1 of the union are among them, and one more says "there is more".
        items.extend(provider(record, before=before, limit=limit + 1))
    items.sort(key=lambda item: item.when, reverse=True)
    if len(items) <= limit:
        return TimelinePage(items=items, next_cursor=None)
    shown, first_left_out = items[:limit], items[limit]
    # The next page asks for items strictly older than the last one shown, so items that share the timestamp of
    # the first one left out move to the next page together instead of being skipped. Only a page whose every
    # item has one and the same timestamp (a bulk write) is kept whole.
    whole_timestamps = [item for item in shown if item.when != first_left_out.when]
    if whole_timestamps:
        shown = whole_timestamps
    return TimelinePage(items=shown, next_cursor=_cursor_dump(shown[-1].when))


def _cursor_dump(when: datetime) -> str:
    return signing.dumps(when.isoformat(), salt=_SALT)


def _cursor_load(cursor: str | None) -> datetime | None:
    if not cursor:
        return None
    try:
        return datetime.fromisoformat(signing.loads(cursor, salt=_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None


# --- built-in providers ------------------------------------------------------------------------------------------


def _older(qs, field: str, before: datetime | None):
    return qs.filter(**{f"{field}__lt": before}) if before is not None else qs


@timeline_provider("company", "contact", "deal")
def note_items(record, *, before, limit):
    qs = _older(record.notes.select_related("author"), "created_at", before).order_by("-created_at", "-id")
    return [TimelineItem(when=n.created_at, template="crm/record/timeline/note.html", obj=n, kind="note") for n in qs[:limit]]


@timeline_provider("company", "contact", "deal")
def task_created_items(record, *, before, limit):
    qs = _older(record.tasks.select_related("owner"), "created_at", before).order_by("-created_at", "-id")
    return [
        TimelineItem(when=t.created_at, template="crm/record/timeline/task_created.html", obj=t, kind="task_created")
        for t in qs[:limit]
    ]


@timeline_provider("company", "contact", "deal")
def task_completed_items(record, *, before, limit):
    qs = _older(record.tasks.filter(completed_at__isnull=False), "completed_at", before)
    return [
        TimelineItem(
            when=t.completed_at, template="crm/record/timeline/task_completed.html", obj=t, kind="task_completed"
        )
        for t in qs.order_by("-completed_at", "-id")[:limit]
    ]


@timeline_provider("deal")
def stage_change_items(record, *, before, limit):
    # The first entry (no from-stage) is the deal's creation, which the "created" item already shows.
    qs = DealStageChange.objects.filter(deal=record, from_stage__isnull=False).select_related(
        "from_stage", "to_stage", "changed_by"
    )
    qs = _older(qs, "changed_at", before).order_by("-changed_at", "-id")
    return [
        TimelineItem(when=c.changed_at, template="crm/record/timeline/stage_change.html", obj=c, kind="stage_change")
        for c in qs[:limit]
    ]


@timeline_provider("company", "contact", "deal")
def created_items(record, *, before, limit):
    if before is not None and record.created_at >= before:
        return []
    return [TimelineItem(when=record.created_at, template="crm/record/timeline/created.html", obj=record, kind="created")]
