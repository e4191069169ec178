import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from commerce_hub.access import get_for_user, require_perm
from commerce_hub.accounts.models import User
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.pagination import keyset_page, query_string_without
from commerce_hub.saved_views.forms import SaveViewForm
from commerce_hub.saved_views.selectors import saved_views_for
from commerce_hub.text import csv_safe, ids_from, is_id
from crm.index import DEFAULT_VIEWS, VIEW_INDEXES, index_query
from crm.models import CrmList, LifecycleStage, Stage
from crm.services import records as record_services
from crm.services.lists import crm_list_add_members
from crm.services.views import saved_view_create, saved_view_delete
from crm.templatetags.crm import plain_value

PLURAL = {"companies": "company", "contacts": "contact", "deals": "deal"}
EMPTY_TITLES = {
    "company": gettext_lazy("No companies yet"),
    "contact": gettext_lazy("No contacts yet"),
    "deal": gettext_lazy("No deals yet"),
}
TITLES = {"company": gettext_lazy("Companies"), "contact": gettext_lazy("Contacts"), "deal": gettext_lazy("Deals")}
PAGE_SIZE = 50
EXPORT_CHUNK = 2000


def _object_type(plural: str) -> str:
    if plural not in PLURAL:
        raise Http404
    return PLURAL[plural]


@require_perm("accounts.view_crm")
def record_index(request, plural: str):
    object_type = _object_type(plural)
    index = index_query(object_type, request.GET, request.user)
    page = keyset_page(index.queryset, ordering=index.ordering, cursor=request.GET.get("after"), size=PAGE_SIZE)
    saved = saved_views_for(index=VIEW_INDEXES[object_type], user=request.user)
    query = query_string_without(request.GET, "after")
    return render(
        request,
        "crm/index.html",
        {
            "object_type": object_type,
            "plural": plural,
            "title": TITLES[object_type],
            "empty_title": EMPTY_TITLES[object_type],
            "index": index,
            "page": page,
            "query": query,
            "query_without_sort": query_string_without(request.GET, "after", "sort"),
            "query_without_view": query_string_without(request.GET, "after", "view"),
            "default_views": DEFAULT_VIEWS,
            "saved_views": saved,
            "save_form": SaveViewForm(),
            "users": User.objects.filter(is_active=True).order_by("full_name"),
            "lifecycle_stages": LifecycleStage.objects.filter(is_active=True),
            "stages": Stage.objects.select_related("pipeline") if object_type == "deal" else [],
            "static_lists": CrmList.objects.filter(object_type=object_type, kind=CrmList.Kind.STATIC),
            "active_nav": plural,
        },
    )


@require_perm("accounts.view_crm")
@require_POST
def saved_view_save(request, plural: str):
    object_type = _object_type(plural)
    form = SaveViewForm(request.POST)
    query = request.POST.get("query", "")
    if form.is_valid():
        try:
            view = saved_view_create(
                object_type=object_type,
                name=form.cleaned_data["name"],
                query=query,
                shared=form.cleaned_data["shared"],
                actor=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
            return redirect(f"{reverse(f'crm:{object_type}_list')}?view={view.pk}")
    else:
        messages.error(request, _("Give the view a name."))
    return redirect(f"{reverse(f'crm:{object_type}_list')}?{query}")


@require_perm("accounts.view_crm")
@require_POST
def saved_view_remove(request, plural: str, pk: int):
    object_type = _object_type(plural)
    view = get_for_user(
        request.user,
        saved_views_for(index=VIEW_INDEXES[object_type], user=request.user),
        "accounts.view_crm",
        pk=pk,
    )
    try:
        saved_view_delete(object_type=object_type, view=view, actor=request.user)
    except ValidationError as exc:
        raise PermissionDenied(" ".join(exc.messages)) from exc
    messages.success(request, _("View deleted."))
    return redirect(f"crm:{object_type}_list")


BULK_ACTIONS = {
    "owner": "accounts.edit_crm",
    "lifecycle_stage": "accounts.edit_crm",
    "stage": "accounts.edit_crm",
    "delete": "accounts.delete_crm",
}


@require_perm("accounts.view_crm")
@require_POST
def bulk_action(request, plural: str):
    object_type = _object_type(plural)
    action = request.POST.get("action", "")
    back = f"{reverse(f'crm:{object_type}_list')}?{request.POST.get('query', '')}"
    if action.startswith("list:"):
        return _add_to_list(request, object_type, action.removeprefix("list:"), back)
    if (
        action not in BULK_ACTIONS
        or (action == "stage" and object_type != "deal")
        or (action == "lifecycle_stage" and object_type == "deal")
    ):
        messages.error(request, _("Choose an action."))
        return redirect(back)
    if not request.user.has_perm(BULK_ACTIONS[action]):
        raise PermissionDenied
    ids = ids_from(request.POST.getlist("ids"))
    if not ids:
        messages.error(request, _("Select at least one row."))
        return redirect(back)
    model = record_services.MODELS[object_type]
    ids = list(model.objects.filter(pk__in=ids).values_list("pk", flat=True))
    if action == "delete":
        if request.POST.get("confirm") != "yes":
            return render(
                request,
                "crm/bulk_delete_confirm.html",
                {
                    "plural": plural,
                    "title": TITLES[object_type],
                    "ids": ids,
                    "count": len(ids),
                    "query": request.POST.get("query", ""),
                    "active_nav": plural,
                    "records": model.objects.filter(pk__in=ids)[:20],
                },
            )
        try:
            count = record_services.records_bulk_delete(object_type=object_type, ids=ids, actor=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("%(count)d records deleted.") % {"count": count})
        return redirect(back)
    try:
        count = record_services.records_bulk_update(
            object_type=object_type, ids=ids, key=action, raw=request.POST.get("value", ""), actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(count)d records updated.") % {"count": count})
    return redirect(back)


def _add_to_list(request, object_type: str, list_id: str, back: str):
    if not request.user.has_perm("accounts.edit_crm"):
        raise PermissionDenied
    crm_list = get_for_user(
        request.user,
        CrmList.objects.filter(object_type=object_type),
        "accounts.edit_crm",
        pk=int(list_id) if is_id(list_id) else 0,
    )
    ids = ids_from(request.POST.getlist("ids"))
    try:
        added = crm_list_add_members(crm_list=crm_list, record_ids=ids, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(count)d added to “%(name)s”.") % {"count": added, "name": crm_list.name})
    return redirect(back)


class _Echo:
    def write(self, value):
        return value


@require_perm("accounts.view_crm", "accounts.export_data")
def export_csv(request, plural: str):
    """Streams the rows of the current view, in its columns and order, walking the keyset (no OFFSET)."""
    object_type = _object_type(plural)
    index = index_query(object_type, request.GET, request.user)
    columns = index.columns if request.GET.get("columns") == "view" else index.specs
    writer = csv.writer(_Echo())
    audit_record(
        actor=request.user,
        action="crm.exported",
        object_type=f"crm.{object_type}",
        after={"query": query_string_without(request.GET, "after"), "columns": [c.key for c in columns]},
    )

    def rows():
        yield "\ufeff" + writer.writerow(["id", *[csv_safe(c.label) for c in columns]])
        cursor = None
        while True:
            page = keyset_page(index.queryset, ordering=index.ordering, cursor=cursor, size=EXPORT_CHUNK)
            for record in page.rows:
                yield writer.writerow([record.pk, *[csv_safe(plain_value(record, c)) for c in columns]])
            if not page.next_cursor:
                break
            cursor = page.next_cursor

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{plural}-{stamp}.csv"'
    return response
