"""Lists of records. Dynamic lists re-run their filters whenever they are viewed; static lists hold chosen records.

Other apps add criteria that the index filters cannot express, e.g. payments registers "contacts who paid in the
last N days" with register_criterion(); a dynamic list stores the criteria it uses by key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.index import MODELS, index_query
from crm.models import CrmList, Deal, Stage, Task


@dataclass(frozen=True)
class Criterion:
    key: str
    object_type: str
    label: str
    apply: Callable[[QuerySet, dict], QuerySet]
    takes_days: bool = False


_criteria: dict[str, Criterion] = {}


def register_criterion(key: str, *, object_type: str, label, apply, takes_days: bool = False) -> None:
    _criteria[key] = Criterion(key, object_type, label, apply, takes_days)


def criteria_for(object_type: str) -> list[Criterion]:
    return [c for c in _criteria.values() if c.object_type == object_type]


def criterion(key: str) -> Criterion | None:
    return _criteria.get(key)


def list_members(crm_list: CrmList, user) -> QuerySet:
    """The records of a list right now, ordered like the index (so keyset pagination applies)."""
    if crm_list.kind == CrmList.Kind.STATIC:
        query = QueryDict(mutable=True)
        index = index_query(crm_list.object_type, query, user)
        return index.queryset.filter(pk__in=crm_list.members.values("record_id")), index.ordering
    index = index_query(crm_list.object_type, QueryDict(crm_list.definition.get("query", "")), user)
    qs = index.queryset
    for entry in crm_list.definition.get("criteria", []):
        found = criterion(entry.get("key", ""))
        if found is not None and found.object_type == crm_list.object_type:
            qs = found.apply(qs, entry.get("params", {}))
    return qs, index.ordering


def _open_tasks(qs, _params, field):
    return qs.filter(Exists(Task.objects.filter(**{field: OuterRef("pk")}, completed_at__isnull=True)))


def _companies_with_open_deals(qs, _params):
    return qs.filter(Exists(Deal.objects.filter(company=OuterRef("pk"), stage__kind=Stage.Kind.OPEN)))


def _deals_closing_within(qs, params):
    days = int(params.get("days", 30))
    today = timezone.localdate()
    return qs.filter(close_date__gte=today, close_date__lte=today + timedelta(days=days), stage__kind=Stage.Kind.OPEN)


def _contacts_without_deals(qs, _params):
    return qs.filter(~Exists(Deal.contacts.through.objects.filter(contact_id=OuterRef("pk"))))


register_criterion(
    "contact.open_task",
    object_type="contact",
    label=_("Has an open task"),
    apply=lambda qs, p: _open_tasks(qs, p, "contact"),
)
register_criterion("contact.no_deals", object_type="contact", label=_("Is on no deal"), apply=_contacts_without_deals)
register_criterion(
    "company.open_deals", object_type="company", label=_("Has an open deal"), apply=_companies_with_open_deals
)
register_criterion(
    "company.open_task",
    object_type="company",
    label=_("Has an open task"),
    apply=lambda qs, p: _open_tasks(qs, p, "company"),
)
register_criterion(
    "deal.closing_within",
    object_type="deal",
    label=_("Open and closing within N days"),
    apply=_deals_closing_within,
    takes_days=True,
)

__all__ = ["MODELS", "criteria_for", "list_members", "register_criterion"]
