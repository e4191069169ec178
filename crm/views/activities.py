"""Notes, tasks and the timeline of a record, and the "My tasks" page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from commerce_hub.access import get_for_user, require_perm
from crm.forms import NoteForm, TaskForm, form_apply_errors
from crm.models import Note, Task
from crm.selectors_records import record_tasks, tasks_group_by_due, tasks_of_owner
from crm.services import activities
from crm.services.records import object_type_of
from crm.timeline import TimelineItem, timeline_page
from crm.views.records import EDIT, VIEW, detail_url, record_context, record_get

_TASKS = Task.objects.select_related("owner", "company", "contact", "deal")


@require_perm(VIEW)
@require_GET
def timeline(request, object_type: str, pk: int):
    """Timeline items from ?cursor= on ("Show more"), or the newest page when the timeline changed."""
    record = record_get(request, object_type, pk, VIEW)
    context = record_context(request, record, object_type) | {
        "timeline": timeline_page(record, cursor=request.GET.get("cursor"))
    }
    return render(request, "crm/record/timeline_items.html", context)


@require_perm(EDIT)
@require_POST
def note_add(request, object_type: str, pk: int):
    record = record_get(request, object_type, pk, EDIT)
    form = NoteForm(request.POST, prefix="note")
    form.is_valid()
    context = record_context(request, record, object_type)
    try:
        note = activities.note_create(record=record, body=form.cleaned_data.get("body", ""), author=request.user)
    except ValidationError as exc:
        form_apply_errors(form, exc)
        if not request.htmx:
            messages.error(request, " ".join(form.errors.get("body", [])))
            return redirect(detail_url(object_type, pk))
        response = render(request, "crm/record/note_form.html", context | {"note_form": form})
        response["HX-Retarget"] = "#note-form"
        response["HX-Reswap"] = "outerHTML"
        return response
    if not request.htmx:
        messages.success(request, _("Note added."))
        return redirect(detail_url(object_type, pk))
    item = TimelineItem(when=note.created_at, template="crm/record/timeline/note.html", obj=note, kind="note")
    # The new note goes on top of the timeline; an out-of-band copy of the form replaces the filled-in one.
    return render(
        request,
        "crm/record/note_added.html",
        context | {"item": item, "note_form": NoteForm(prefix="note"), "oob": True},
    )


@require_perm(EDIT)
@require_POST
def note_delete(request, pk: int):
    note = get_for_user(request.user, Note.objects.select_related("company", "contact", "deal"), EDIT, pk=pk)
    record = activities.activity_record(note)
    activities.note_delete(note=note, actor=request.user)  # PermissionDenied (403) unless it is the user's own
    if request.htmx:
        return render(request, "crm/record/empty.html")
    messages.success(request, _("Note deleted."))
    return redirect(detail_url(object_type_of(record), record.pk))


@require_perm(EDIT)
@require_POST
def task_add(request, object_type: str, pk: int):
    record = record_get(request, object_type, pk, EDIT)
    form = TaskForm(request.POST, prefix="task")
    if form.is_valid():
        try:
            activities.task_create(
                record=record,
                title=form.cleaned_data["title"],
                due_date=form.cleaned_data["due_date"],
                owner=form.cleaned_data["owner"],
                actor=request.user,
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
    if not request.htmx:
        if form.errors:
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        else:
            messages.success(request, _("Task added."))
        return redirect(detail_url(object_type, pk))
    if not form.errors:
        form = TaskForm(prefix="task", initial={"owner": request.user.pk})
    context = record_context(request, record, object_type) | {"tasks": record_tasks(record), "task_form": form}
    response = render(request, "crm/record/tasks.html", context)
    if not form.errors:
        response["HX-Trigger"] = "timelineChanged"
    return response


def _task_toggle(request, pk: int, *, complete: bool):
    task = get_for_user(request.user, _TASKS, EDIT, pk=pk)
    if complete:
        task = activities.task_complete(task=task, actor=request.user)
    else:
        task = activities.task_reopen(task=task, actor=request.user)
    if request.htmx:
        response = render(
            request,
            "crm/record/task_row.html",
            {"task": task, "can_edit": True, "show_record": request.POST.get("show_record") == "1"},
        )
        response["HX-Trigger"] = "timelineChanged"
        return response
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return redirect(next_url)
    record = task.record
    return redirect(detail_url(object_type_of(record), record.pk))


@require_perm(EDIT)
@require_POST
def task_complete(request, pk: int):
    return _task_toggle(request, pk, complete=True)


@require_perm(EDIT)
@require_POST
def task_reopen(request, pk: int):
    return _task_toggle(request, pk, complete=False)


@require_perm(VIEW)
@require_GET
def my_tasks(request):
    show_completed = request.GET.get("show") == "all"
    tasks = tasks_of_owner(owner=request.user, include_completed=show_completed)
    groups = tasks_group_by_due(tasks, today=timezone.localdate())
    return render(
        request,
        "crm/record/my_tasks.html",
        {
            "groups": groups,
            "show_completed": show_completed,
            "can_edit": request.user.has_perm(EDIT),
            "active_nav": "tasks",
        },
    )
