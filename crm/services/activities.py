"""Writes to notes and tasks, the human part of a record's timeline."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from commerce_hub.accounts.models import User
from commerce_hub.events.services import event_emit
from crm import events
from crm.models import Note, Task
from crm.services.records import object_type_of

NOTE_MAX_LENGTH = 10_000
TASK_TITLE_MAX_LENGTH = 200


def _record_link(record: Model) -> dict:
    """The foreign key that ties a note or task to its record (exactly one is set, a check constraint holds it)."""
    return {object_type_of(record): record}


def _record_payload(record: Model) -> dict:
    return {"record_type": object_type_of(record), "record_id": record.pk}


def note_create(*, record: Model, body: str, author) -> Note:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": [_("Write something first.")]})
    if len(body) > NOTE_MAX_LENGTH:
        raise ValidationError({"body": [_("Keep a note under %(max)s characters.") % {"max": f"{NOTE_MAX_LENGTH:,}"}]})
    with transaction.atomic():
        note = Note.objects.create(body=body, author=author, **_record_link(record))
        event_emit(name=events.NOTE_CREATED, payload={"id": note.pk, **_record_payload(record)})
    return note


def note_delete(*, note: Note, actor) -> None:
    """Only the author deletes a note: a note is someone's own words."""
    if note.author_id is None or note.author_id != getattr(actor, "pk", None):
        raise PermissionDenied
    with transaction.atomic():
        event_emit(name=events.NOTE_DELETED, payload={"id": note.pk, **_record_payload(activity_record(note))})
        note.delete()


def activity_record(activity: Note | Task) -> Model:
    return activity.company or activity.contact or activity.deal


def task_create(*, record: Model, title: str, due_date: date | None, owner: User | None, actor) -> Task:
    title = (title or "").strip()
    errors = {}
    if not title:
        errors["title"] = [_("Give the task a title.")]
    elif len(title) > TASK_TITLE_MAX_LENGTH:
        errors["title"] = [_("Keep the title under %(max)s characters.") % {"max": TASK_TITLE_MAX_LENGTH}]
    if owner is not None and not owner.is_active:
        errors["owner"] = [_("Choose an active user.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        task = Task.objects.create(
            title=title,
            due_date=due_date,
            owner=owner,
            created_by=actor if getattr(actor, "pk", None) else None,
            **_record_link(record),
        )
        event_emit(name=events.TASK_CREATED, payload={"id": task.pk, **_record_payload(record)})
    return task


def task_complete(*, task: Task, actor) -> Task:
    """Idempotent: completing a completed task keeps its first completion time (two tabs, a double click)."""
    with transaction.atomic():
        now = timezone.now()
        if Task.objects.filter(pk=task.pk, completed_at__isnull=True).update(completed_at=now):
            event_emit(name=events.TASK_COMPLETED, payload={"id": task.pk, "by": getattr(actor, "pk", None)})
    task.refresh_from_db(fields=["completed_at"])
    return task


def task_reopen(*, task: Task, actor) -> Task:
    with transaction.atomic():
        if Task.objects.filter(pk=task.pk, completed_at__isnull=False).update(completed_at=None):
            event_emit(name=events.TASK_REOPENED, payload={"id": task.pk, "by": getattr(actor, "pk", None)})
    task.refresh_from_db(fields=["completed_at"])
    return task
