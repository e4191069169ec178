"""Record pages of companies, contacts and deals: create, the page itself with inline edit, associations, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Model, ProtectedError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commerce_hub.access import get_for_user, require_perm
from commerce_hub.text import is_id
from crm.deletion import deletion_blockers
from crm.fields import FieldSpec, spec_map, specs_for
from crm.forms import (
    ContactPickForm,
    NoteForm,
    TaskForm,
    field_display,
    field_name,
    form_apply_errors,
    form_changes,
    initial_value,
    property_row,
    record_form,
    stage_choices,
)
from crm.models import Contact
from crm.panels import panels_for
from crm.selectors_records import (
    company_search,
    contact_search,
    record_associations,
    record_delete_impact,
    record_queryset,
    record_tasks,
)
from crm.services import associations
from crm.services.records import record_create, record_delete, record_update
from crm.timeline import timeline_page

VIEW, EDIT, DELETE = "accounts.view_crm", "accounts.edit_crm", "accounts.delete_crm"
NAV = {"company": "companies", "contact": "contacts", "deal": "deals"}


# --- helpers shared with crm.views.activities ---------------------------------------------------------------------


def record_get(request, object_type: str, pk: int, perm: str) -> Model:
    return get_for_user(request.user, record_queryset(object_type), perm, pk=pk)


def record_title(record: Model, object_type: str) -> str:
    return (record.full_name or record.email) if object_type == "contact" else record.name


def detail_url(object_type: str, pk: int) -> str:
    return reverse(f"crm:{object_type}_detail", args=[pk])


def record_context(request, record: Model, object_type: str) -> dict:
    """What every fragment of a record page needs: the record, its URL names and what this user may do."""
    return {
        "record": record,
        "object_type": object_type,
        "url_prefix": f"crm:{object_type}",
        "detail_url": detail_url(object_type, record.pk),
        "can_edit": request.user.has_perm(EDIT),
        "can_delete": request.user.has_perm(DELETE),
        "active_nav": NAV[object_type],
    }


def _badges(record: Model, object_type: str, specs: dict[str, FieldSpec]) -> list[dict]:
    keys = {
        "company": ["lifecycle_stage", "country"],
        "contact": ["lifecycle_stage", "company"],
        "deal": ["stage", "amount"],
    }[object_type]
    badges = []
    for key in keys:
        text, _href, css = field_display(record, specs[key])
        if text:
            badges.append({"text": text, "css": css})
    return badges


# --- the record page ----------------------------------------------------------------------------------------------


def _detail(request, object_type: str, pk: int):
    record = record_get(request, object_type, pk, VIEW)
    context = record_context(request, record, object_type)
    can_edit = context["can_edit"]
    specs = specs_for(object_type)
    context |= {
        "title": record_title(record, object_type),
        "badges": _badges(record, object_type, {spec.key: spec for spec in specs}),
        "rows": [property_row(record, spec, can_edit=can_edit) for spec in specs],
        "tasks": record_tasks(record),
        "timeline": timeline_page(record, cursor=request.GET.get("cursor")),
        "panels": panels_for(request, record, object_type),
        "note_form": NoteForm(prefix="note"),
        "task_form": TaskForm(prefix="task", initial={"owner": request.user.pk}),
        **record_associations(record, object_type),
    }
    return render(request, f"crm/{object_type}_detail.html", context)


@require_perm(VIEW)
@require_GET
def company_detail(request, pk: int):
    return _detail(request, "company", pk)


@require_perm(VIEW)
@require_GET
def contact_detail(request, pk: int):
    return _detail(request, "contact", pk)


@require_perm(VIEW)
@require_GET
def deal_detail(request, pk: int):
    return _detail(request, "deal", pk)


# --- create -------------------------------------------------------------------------------------------------------


def _create_initial(request, object_type: str) -> dict:
    from commerce_hub.organization.selectors import organization_profile_cached

    profile = organization_profile_cached()
    initial = {"owner": str(request.user.pk), "lifecycle_stage": "lead", "language": request.LANGUAGE_CODE}
    if object_type == "company":
        initial["country"] = profile.country or "NL"
    if object_type == "deal":
        stages = stage_choices(None)
        initial["stage"] = stages[0][0] if stages else ""
        initial["amount_currency"] = profile.default_currency or "EUR"
    company = request.GET.get("company", "")
    if object_type in ("contact", "deal") and is_id(company):
        initial["company"] = company
    return initial


@require_perm(EDIT)
@require_http_methods(["GET", "POST"])
def record_create_view(request, object_type: str):
    specs = [spec for spec in specs_for(object_type) if spec.editable]
    data = request.POST if request.method == "POST" else None
    form = record_form(specs, data=data, initial=_create_initial(request, object_type))
    if data is not None and form.is_valid():
        try:
            record = record_create(
                object_type=object_type, data=form_changes(form, skip_empty=True), actor=request.user
            )
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            messages.success(request, _("“%(name)s” created.") % {"name": record_title(record, object_type)})
            return redirect(detail_url(object_type, record.pk))
    titles = {"company": _("New company"), "contact": _("New contact"), "deal": _("New deal")}
    return render(
        request,
        "crm/record/create.html",
        {
            "form": form,
            "object_type": object_type,
            "title": titles[object_type],
            "list_url": reverse(f"crm:{object_type}_list"),
            "active_nav": NAV[object_type],
        },
        status=400 if form.errors else 200,
    )


# --- inline edit of one field -------------------------------------------------------------------------------------


def _spec_get(object_type: str, key: str) -> FieldSpec:
    spec = spec_map(object_type).get(key)
    if spec is None:
        raise Http404
    return spec


def _field_context(request, record, object_type: str, spec: FieldSpec) -> dict:
    context = record_context(request, record, object_type)
    context["row"] = property_row(record, spec, can_edit=context["can_edit"])
    return context


@require_perm(VIEW)
@require_GET
def record_field(request, object_type: str, pk: int, key: str):
    """One property as shown in the panel (what Cancel swaps back in)."""
    record = record_get(request, object_type, pk, VIEW)
    spec = _spec_get(object_type, key)
    return render(request, "crm/record/field_display.html", _field_context(request, record, object_type, spec))


@require_perm(EDIT)
@require_http_methods(["GET", "POST"])
def record_field_edit(request, object_type: str, pk: int, key: str):
    """GET: the one-field form; POST: save it through record_update, answer with the display or the form again."""
    record = record_get(request, object_type, pk, EDIT)
    spec = _spec_get(object_type, key)
    if not spec.editable:
        raise Http404
    name = field_name(spec)
    data = request.POST if request.method == "POST" else None
    form = record_form([spec], data=data, initial={name: initial_value(record, spec)}, record=record, prefix="inline")
    form.fields[name].widget.attrs["autofocus"] = True
    if data is not None and form.is_valid():
        old_stage = getattr(record, "stage_id", None)
        try:
            updated = record_update(record=record, changes=form_changes(form, skip_empty=False), actor=request.user)
        except ValidationError as exc:
            form_apply_errors(form, exc)
        else:
            record = record_get(request, object_type, updated.pk, VIEW)
            if not request.htmx:
                messages.success(request, _("%(field)s saved.") % {"field": spec.label})
                return redirect(detail_url(object_type, pk))
            response = render(
                request, "crm/record/field_display.html", _field_context(request, record, object_type, spec)
            )
            events = ["recordChanged"]
            if object_type == "deal" and record.stage_id != old_stage:
                events.append("timelineChanged")
            response["HX-Trigger"] = ", ".join(events)
            return response
    context = _field_context(request, record, object_type, spec) | {
        "form": form,
        "field": form[name],
        "edit_url": request.path,
        "display_url": reverse(f"crm:{object_type}_field", args=[pk, spec.key]),
        "title": record_title(record, object_type),
    }
    if request.htmx:
        # htmx swaps only 2xx answers by default; the error is in the fragment, next to the field.
        return render(request, "crm/record/field_form.html", context | {"inline": True})
    return render(request, "crm/record/field_edit_page.html", context, status=400 if form.errors else 200)


# --- delete -------------------------------------------------------------------------------------------------------


def delete_consequences(object_type: str, counts: dict[str, int]) -> list[str]:
    """What deleting the record does, in full sentences with the exact counts."""
    lines = []
    if object_type == "company":
        parts = []
        if counts["contacts"]:
            parts.append(ngettext("%(n)s contact", "%(n)s contacts", counts["contacts"]) % {"n": counts["contacts"]})
        if counts["deals"]:
            parts.append(ngettext("%(n)s deal", "%(n)s deals", counts["deals"]) % {"n": counts["deals"]})
        if parts:
            linked = (
                parts[0] if len(parts) == 1 else _("%(first)s and %(second)s") % {"first": parts[0], "second": parts[1]}
            )
            lines.append(_("%(linked)s will no longer be linked to this company.") % {"linked": linked})
            lines.append(_("The contacts and deals themselves are kept."))
        else:
            lines.append(_("No contacts or deals are linked to this company."))
    elif object_type == "contact":
        if counts["deals"]:
            lines.append(
                ngettext(
                    "%(n)s deal will no longer list this contact.",
                    "%(n)s deals will no longer list this contact.",
                    counts["deals"],
                )
                % {"n": counts["deals"]}
            )
    elif counts["contacts"]:
        lines.append(
            ngettext(
                "%(n)s contact will no longer be linked to this deal; the contact is kept.",
                "%(n)s contacts will no longer be linked to this deal; the contacts are kept.",
                counts["contacts"],
            )
            % {"n": counts["contacts"]}
        )
    if counts["notes"] or counts["tasks"]:
        notes = ngettext("%(n)s note", "%(n)s notes", counts["notes"]) % {"n": counts["notes"]}
        tasks = ngettext("%(n)s task", "%(n)s tasks", counts["tasks"]) % {"n": counts["tasks"]}
        lines.append(_("Its %(notes)s and %(tasks)s are deleted with it.") % {"notes": notes, "tasks": tasks})
    return lines


@require_perm(DELETE)
@require_http_methods(["GET", "POST"])
def record_delete_view(request, object_type: str, pk: int):
    record = record_get(request, object_type, pk, DELETE)
    title = record_title(record, object_type)
    if request.method == "POST":
        try:
            record_delete(record=record, actor=request.user)
        except ProtectedError:
            messages.error(request, _("“%(name)s” is used by other documents and cannot be deleted.") % {"name": title})
            return redirect(detail_url(object_type, pk))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect(detail_url(object_type, pk))
        messages.success(request, _("“%(name)s” deleted.") % {"name": title})
        return redirect(f"crm:{object_type}_list")
    headings = {
        "company": _("Delete the company “%(name)s”?"),
        "contact": _("Delete the contact “%(name)s”?"),
        "deal": _("Delete the deal “%(name)s”?"),
    }
    context = record_context(request, record, object_type) | {
        "title": title,
        "heading": headings[object_type] % {"name": title},
        "consequences": delete_consequences(object_type, record_delete_impact(record, object_type)),
        # Said before the click: what keeps this record (a finalized invoice addressed to it).
        "blockers": deletion_blockers(object_type=object_type, ids=[record.pk]),
    }
    return render(request, "crm/record/delete_confirm.html", context)


# --- associations -------------------------------------------------------------------------------------------------


@require_perm(EDIT)
@require_GET
def record_contact_search(request, object_type: str, pk: int):
    """Contacts matching ?q= that are not linked yet, each with an Add button (company and deal pages)."""
    record = record_get(request, object_type, pk, EDIT)
    linked = record.contacts.values("pk")
    context = record_context(request, record, object_type) | {
        "q": request.GET.get("q", "").strip()[:100],
        "results": contact_search(search=request.GET.get("q", ""), exclude=linked),
        "add_url": reverse(f"crm:{object_type}_contact_add", args=[pk]),
        "title": record_title(record, object_type),
    }
    template = "crm/record/contact_picker.html" if request.htmx else "crm/record/contact_picker_page.html"
    return render(request, template, context)


@require_perm(EDIT)
@require_POST
def record_contact_add(request, object_type: str, pk: int):
    record = record_get(request, object_type, pk, EDIT)
    form = ContactPickForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    contact = get_for_user(request.user, Contact.objects.all(), EDIT, pk=form.cleaned_data["contact"])
    if object_type == "company":
        associations.company_contact_add(company=record, contact=contact, actor=request.user)
    else:
        associations.deal_contact_add(deal=record, contact=contact, actor=request.user)
    if not request.htmx:
        messages.success(request, _("%(contact)s linked.") % {"contact": contact.full_name or contact.email})
    # htmx follows the redirect and swaps in the page's association cards.
    return redirect(detail_url(object_type, pk))


@require_perm(EDIT)
@require_POST
def record_contact_remove(request, object_type: str, pk: int, contact_pk: int):
    record = record_get(request, object_type, pk, EDIT)
    contact = get_for_user(request.user, record.contacts.all(), EDIT, pk=contact_pk)
    if object_type == "company":
        associations.company_contact_remove(company=record, contact=contact, actor=request.user)
    else:
        associations.deal_contact_remove(deal=record, contact=contact, actor=request.user)
    if not request.htmx:
        messages.success(request, _("%(contact)s unlinked.") % {"contact": contact.full_name or contact.email})
    return redirect(detail_url(object_type, pk))


@require_perm(VIEW)
@require_GET
def company_options(request):
    """<option>s for the company text box once there are too many companies for a select."""
    # The text box sends its own value under its form field name, whatever the form's prefix.
    search = next(iter(request.GET.values()), "")
    return render(request, "crm/record/company_options.html", {"companies": company_search(search=search)})
