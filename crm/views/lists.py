from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.pagination import keyset_page
from commerce_hub.text import ids_from
from crm.fields import specs_for
from crm.lists import criteria_for, list_members
from crm.models import CrmList, ObjectType
from crm.services import lists as list_services


class ListForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("List name"), max_length=120)
    object_type = forms.ChoiceField(label=gettext_lazy("Records"), choices=ObjectType.choices)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"),
        widget=forms.RadioSelect,
        choices=[
            ("dynamic", gettext_lazy("Dynamic: the records that match the filters, whenever you open it")),
            ("static", gettext_lazy("Static: the records you add")),
        ],
        initial="dynamic",
    )
    query = forms.CharField(required=False, widget=forms.HiddenInput)
    criteria = forms.MultipleChoiceField(
        label=gettext_lazy("Also require"), required=False, widget=forms.CheckboxSelectMultiple, choices=[]
    )
    days = forms.IntegerField(
        label=gettext_lazy("Days (for “within N days”)"), required=False, min_value=1, max_value=3650
    )

    def __init__(self, *args, object_type="contact", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["criteria"].choices = [(c.key, c.label) for c in criteria_for(object_type)]


@require_perm("accounts.view_crm")
def list_index(request):
    lists = CrmList.objects.select_related("created_by")
    return render(request, "crm/lists/index.html", {"lists": lists, "active_nav": "lists"})


@require_perm("accounts.edit_crm")
@require_http_methods(["GET", "POST"])
def list_create(request):
    object_type = request.POST.get("object_type") or request.GET.get("object_type") or "contact"
    if object_type not in ObjectType.values:
        object_type = "contact"
    initial = {"object_type": object_type, "query": request.GET.get("query", "")}
    form = ListForm(request.POST or None, initial=initial, object_type=object_type)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        criteria = [{"key": key, "params": {"days": data.get("days")}} for key in data["criteria"]]
        try:
            crm_list = list_services.crm_list_create(
                object_type=data["object_type"],
                name=data["name"],
                kind=data["kind"],
                query=data["query"],
                criteria=criteria,
                actor=request.user,
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("List “%(name)s” created.") % {"name": crm_list.name})
            return redirect("crm:list_detail", pk=crm_list.pk)
    return render(
        request, "crm/lists/create.html", {"form": form, "active_nav": "lists"}, status=400 if form.errors else 200
    )


@require_perm("accounts.view_crm")
def list_detail(request, pk: int):
    crm_list = get_for_user(request.user, CrmList.objects.all(), "accounts.view_crm", pk=pk)
    members, ordering = list_members(crm_list, request.user)
    page = keyset_page(members, ordering=ordering, cursor=request.GET.get("after"), size=50)
    columns = [s for s in specs_for(crm_list.object_type) if s.default_column]
    criteria = {c.key: c.label for c in criteria_for(crm_list.object_type)}
    return render(
        request,
        "crm/lists/detail.html",
        {
            "crm_list": crm_list,
            "page": page,
            "columns": columns,
            "object_type": crm_list.object_type,
            "criteria_labels": [criteria.get(c["key"], c["key"]) for c in crm_list.definition.get("criteria", [])],
            "active_nav": "lists",
            "query": "",
        },
    )


@require_perm("accounts.edit_crm")
@require_POST
def list_members_add(request, pk: int):
    crm_list = get_for_user(request.user, CrmList.objects.all(), "accounts.edit_crm", pk=pk)
    ids = ids_from(request.POST.getlist("ids"))
    try:
        added = list_services.crm_list_add_members(crm_list=crm_list, record_ids=ids, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(count)d added to “%(name)s”.") % {"count": added, "name": crm_list.name})
    return redirect("crm:list_detail", pk=pk)


@require_perm("accounts.edit_crm")
@require_POST
def list_members_remove(request, pk: int):
    crm_list = get_for_user(request.user, CrmList.objects.all(), "accounts.edit_crm", pk=pk)
    ids = ids_from(request.POST.getlist("ids"))
    removed = list_services.crm_list_remove_members(crm_list=crm_list, record_ids=ids, actor=request.user)
    messages.success(request, _("%(count)d removed from the list.") % {"count": removed})
    return redirect("crm:list_detail", pk=pk)


@require_perm("accounts.edit_crm")
@require_http_methods(["GET", "POST"])
def list_delete(request, pk: int):
    crm_list = get_for_user(request.user, CrmList.objects.all(), "accounts.edit_crm", pk=pk)
    if request.method == "POST":
        list_services.crm_list_delete(crm_list=crm_list, actor=request.user)
        messages.success(request, _("List deleted; its records are unchanged."))
        return redirect("crm:list_index")
    return render(request, "crm/lists/delete.html", {"crm_list": crm_list, "active_nav": "lists"})
