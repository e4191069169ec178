from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from crm.index import MODELS
from crm.lists import criterion
from crm.models import CrmList, CrmListMember

MAX_DAYS = 3650


def crm_list_create(
    *, object_type: str, name: str, kind: str, query: str = "", criteria: list | None = None, actor
) -> CrmList:
    name = name.strip()
    if not name:
        raise ValidationError({"name": [_("Give the list a name.")]})
    if kind not in CrmList.Kind.values:
        raise ValidationError({"kind": [_("Choose dynamic or static.")]})
    params = QueryDict(query, mutable=True)
    for transient in ("after", "view", "csrfmiddlewaretoken"):
        params.pop(transient, None)
    clean_criteria = []
    for entry in criteria or []:
        found = criterion(entry.get("key", ""))
        if found is None or found.object_type != object_type:
            raise ValidationError({"criteria": [_("Unknown criterion.")]})
        params_out = {}
        if found.takes_days:
            days = str(entry.get("params", {}).get("days", ""))
            if not days.isdigit() or not 1 <= int(days) <= MAX_DAYS:
                message = _("Enter a number of days between 1 and %(max)d.") % {"max": MAX_DAYS}
                raise ValidationError({"days": [message]})
            params_out["days"] = int(days)
        clean_criteria.append({"key": found.key, "params": params_out})
    definition = {"query": params.urlencode(), "criteria": clean_criteria} if kind == CrmList.Kind.DYNAMIC else {}
    return CrmList.objects.create(
        object_type=object_type, name=name, kind=kind, definition=definition, created_by=actor
    )


def crm_list_add_members(*, crm_list: CrmList, record_ids: list[int], actor) -> int:
    """Add records to a static list; records already on it, or not found, are skipped."""
    if crm_list.kind != CrmList.Kind.STATIC:
        raise ValidationError(_("Records are added to static lists only; a dynamic list follows its filters."))
    existing = set(MODELS[crm_list.object_type].objects.filter(pk__in=record_ids).values_list("pk", flat=True))
    with transaction.atomic():
        before = crm_list.members.count()
        CrmListMember.objects.bulk_create(
            [CrmListMember(crm_list=crm_list, record_id=pk) for pk in sorted(existing)], ignore_conflicts=True
        )
        return crm_list.members.count() - before


def crm_list_remove_members(*, crm_list: CrmList, record_ids: list[int], actor) -> int:
    deleted, _rows = CrmListMember.objects.filter(crm_list=crm_list, record_id__in=record_ids).delete()
    return deleted


def crm_list_delete(*, crm_list: CrmList, actor) -> None:
    with transaction.atomic():
        crm_list.delete()
