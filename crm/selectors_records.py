"""Reads for the record pages, tasks and associations: each queryset carries the joins its template needs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from commerce_hub.text import clean_search
from crm.models import Company, Contact, Deal, Task

ASSOCIATION_LIMIT = 100
SEARCH_LIMIT = 10
MY_TASKS_LIMIT = 500
COMPLETED_LIMIT = 50


def record_queryset(object_type: str) -> QuerySet:
    if object_type == "company":
        return Company.objects.select_related("owner")
    if object_type == "contact":
        return Contact.objects.select_related("company", "owner")
    return Deal.objects.select_related("stage", "pipeline", "company", "owner")


def record_associations(record: Model, object_type: str) -> dict:
    """The linked records shown on a record page (each list capped; the count says how many there are)."""
    if object_type == "company":
        contacts = record.contacts.select_related("owner").order_by("last_name", "first_name", "id")
        deals = record.deals.select_related("stage").order_by("-updated_at", "-id")
        return {
            "contacts": list(contacts[:ASSOCIATION_LIMIT]),
            "contacts_count": contacts.count(),
            "deals": list(deals[:ASSOCIATION_LIMIT]),
            "deals_count": deals.count(),
        }
    if object_type == "contact":
        deals = record.deals.select_related("stage", "company").order_by("-updated_at", "-id")
        return {"deals": list(deals[:ASSOCIATION_LIMIT]), "deals_count": deals.count()}
    contacts = record.contacts.select_related("company").order_by("last_name", "first_name", "id")
    return {"contacts": list(contacts[:ASSOCIATION_LIMIT]), "contacts_count": contacts.count()}


def record_tasks(record: Model) -> list[Task]:
    """Open tasks by due date (undated last), then the ten most recently completed."""
    qs = record.tasks.select_related("owner")
    open_tasks = qs.filter(completed_at__isnull=True).order_by("due_date", "id")
    done = qs.filter(completed_at__isnull=False).order_by("-completed_at", "-id")[:10]
    return [*open_tasks[:ASSOCIATION_LIMIT], *done]


def contact_search(*, search: str, exclude: QuerySet | None = None) -> list[Contact]:
    search = clean_search(search)
    if not search:
        return []
    words = search.split()
    qs = Contact.objects.select_related("company")
    for word in words:
        qs = qs.filter(Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(email__icontains=word))
    if exclude is not None:
        qs = qs.exclude(pk__in=exclude)
    return list(qs.order_by("last_name", "first_name", "id")[:SEARCH_LIMIT])


def company_search(*, search: str) -> list[Company]:
    search = clean_search(search)
    if not search:
        return []
    qs = Company.objects.filter(Q(name__icontains=search) | Q(domain__icontains=search))
    return list(qs.order_by("name", "id")[:SEARCH_LIMIT])


# --- delete impact -----------------------------------------------------------------------------------------------


def record_delete_impact(record: Model, object_type: str) -> dict[str, int]:
    counts = {"notes": record.notes.count(), "tasks": record.tasks.count()}
    if object_type == "company":
        counts |= {"contacts": record.contacts.count(), "deals": record.deals.count()}
    elif object_type == "contact":
        counts |= {"deals": record.deals.count()}
    else:
        counts |= {"contacts": record.contacts.count()}
    return counts


# --- my tasks ----------------------------------------------------------------------------------------------------


@dataclass
class TaskGroup:
    key: str
    label: str
    tasks: list[Task] = field(default_factory=list)


def tasks_of_owner(*, owner, include_completed: bool = False) -> list[Task]:
    """Open tasks (by due date), and with include_completed the most recently completed ones after them."""
    qs = Task.objects.filter(owner=owner).select_related("company", "contact", "deal")
    tasks = list(qs.filter(completed_at__isnull=True).order_by("due_date", "id")[:MY_TASKS_LIMIT])
    if include_completed:
        tasks += qs.filter(completed_at__isnull=False).order_by("-completed_at", "-id")[:COMPLETED_LIMIT]
    return tasks


def tasks_group_by_due(tasks: list[Task], *, today: date) -> list[TaskGroup]:
    """Overdue / Today / Upcoming / No due date for open tasks, then Completed; empty groups are left out."""
    groups = {
        "overdue": TaskGroup("overdue", _("Overdue")),
        "today": TaskGroup("today", _("Today")),
        "upcoming": TaskGroup("upcoming", _("Upcoming")),
        "undated": TaskGroup("undated", _("No due date")),
        "completed": TaskGroup("completed", _("Completed")),
    }
    for task in tasks:
        if task.completed_at is not None:
            key = "completed"
        elif task.due_date is None:
            key = "undated"
        elif task.due_date < today:
            key = "overdue"
        elif task.due_date == today:
            key = "today"
        else:
            key = "upcoming"
        groups[key].tasks.append(task)
    return [group for group in groups.values() if group.tasks]
