"""Settings → Pipelines, Lifecycle stages and Properties: what admins configure for the CRM."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors
from crm.models import LifecycleStage, ObjectType, Pipeline, PropertyDefinition, Stage
from crm.selectors_board import (
    lifecycle_stages_with_usage,
    pipeline_list_with_counts,
    property_definitions,
    stages_with_counts,
)
from crm.services import configuration as services

PERM = "accounts.manage_settings"
_L = gettext_lazy


class PipelineForm(forms.Form):
    name = forms.CharField(label=_L("Name"), max_length=100)


class StageForm(forms.Form):
    name = forms.CharField(label=_L("Name"), max_length=100)
    probability = forms.DecimalField(
        label=_L("Win probability (%)"), min_value=0, max_value=100, decimal_places=2, max_digits=5, localize=True
    )
    kind = forms.ChoiceField(
        label=_L("Kind"),
        choices=Stage.Kind.choices,
        help_text=_L("Won and lost stages close a deal; reports count them as won or lost."),
    )


class LifecycleStageForm(forms.Form):
    label = forms.CharField(label=_L("Name"), max_length=80)


class PropertyCreateForm(forms.Form):
    label = forms.CharField(label=_L("Label"), max_length=120)
    key = forms.CharField(
        label=_L("Internal name"),
        max_length=60,
        required=False,
        help_text=_L("Used in imports, exports and saved views. Leave empty to make it from the label."),
    )
    property_type = forms.ChoiceField(
        label=_L("Type"),
        choices=PropertyDefinition.Type.choices,
        help_text=_L("The type cannot be changed later."),
    )
    choices = forms.CharField(
        label=_L("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_L("For the Choice type: one option per line."),
    )


class PropertyEditForm(forms.Form):
    label = forms.CharField(label=_L("Label"), max_length=120)
    choices = forms.CharField(
        label=_L("Options"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_L("One option per line. Records keep the options they have when you remove one."),
    )


def _apply_errors(form: forms.Form, exc: ValidationError, field_map: dict | None = None) -> None:
    form_add_errors(form, exc, field_map=field_map)


def _ctx(tab: str, **extra) -> dict:
    return {"active_nav": "settings", "settings_tab": tab, **extra}


def _direction(request) -> str:
    return request.POST.get("direction", "")


def _refusal(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


# --- pipelines ---------------------------------------------------------------------------------------------------


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def pipeline_list(request):
    form = PipelineForm(request.POST or None, prefix="new")
    if request.method == "POST" and form.is_valid():
        try:
            pipeline = services.pipeline_create(name=form.cleaned_data["name"], actor=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc, {"name": "name"})
        else:
            messages.success(request, _("Pipeline “%(name)s” created. Now add its stages.") % {"name": pipeline.name})
            return redirect("crm:pipeline_detail", pk=pipeline.pk)
    return render(
        request,
        "crm/configuration/pipeline_list.html",
        _ctx("pipelines", pipelines=list(pipeline_list_with_counts()), form=form),
        status=400 if form.errors else 200,
    )


def _pipeline_page(request, pipeline, *, rename_form=None, stage_form=None):
    rename_form = rename_form or PipelineForm(initial={"name": pipeline.name})
    stage_form = stage_form or StageForm(prefix="stage", initial={"probability": 0, "kind": Stage.Kind.OPEN})
    bad = rename_form.errors or stage_form.errors
    return render(
        request,
        "crm/configuration/pipeline_detail.html",
        _ctx(
            "pipelines",
            pipeline=pipeline,
            stages=list(stages_with_counts(pipeline=pipeline)),
            rename_form=rename_form,
            stage_form=stage_form,
            pipeline_count=Pipeline.objects.count(),
        ),
        status=400 if bad else 200,
    )


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def pipeline_detail(request, pk: int):
    pipeline = get_for_user(request.user, Pipeline.objects.all(), PERM, pk=pk)
    form = PipelineForm(request.POST or None) if request.method == "POST" else None
    if form is not None and form.is_valid():
        try:
            services.pipeline_rename(pipeline=pipeline, name=form.cleaned_data["name"], actor=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Pipeline renamed."))
            return redirect("crm:pipeline_detail", pk=pipeline.pk)
    return _pipeline_page(request, pipeline, rename_form=form)


@require_perm(PERM)
@require_POST
def pipeline_make_default(request, pk: int):
    pipeline = get_for_user(request.user, Pipeline.objects.all(), PERM, pk=pk)
    services.pipeline_make_default(pipeline=pipeline, actor=request.user)
    messages.success(request, _("“%(name)s” is now the default pipeline.") % {"name": pipeline.name})
    return redirect("crm:pipeline_list")


@require_perm(PERM)
@require_POST
def pipeline_move(request, pk: int):
    pipeline = get_for_user(request.user, Pipeline.objects.all(), PERM, pk=pk)
    try:
        services.pipeline_move(pipeline=pipeline, direction=_direction(request), actor=request.user)
    except ValidationError as exc:
        _refusal(request, exc)
    return redirect("crm:pipeline_list")


@require_perm(PERM)
@require_POST
def pipeline_delete(request, pk: int):
    pipeline = get_for_user(request.user, Pipeline.objects.all(), PERM, pk=pk)
    try:
        services.pipeline_delete(pipeline=pipeline, actor=request.user)
    except ValidationError as exc:
        _refusal(request, exc)
        return redirect("crm:pipeline_detail", pk=pipeline.pk)
    messages.success(request, _("Pipeline “%(name)s” deleted.") % {"name": pipeline.name})
    return redirect("crm:pipeline_list")


# --- stages ------------------------------------------------------------------------------------------------------


@require_perm(PERM)
@require_POST
def stage_create(request, pk: int):
    pipeline = get_for_user(request.user, Pipeline.objects.all(), PERM, pk=pk)
    form = StageForm(request.POST, prefix="stage")
    if form.is_valid():
        try:
            stage = services.stage_create(
                pipeline=pipeline,
                name=form.cleaned_data["name"],
                probability=form.cleaned_data["probability"],
                kind=form.cleaned_data["kind"],
                actor=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Stage “%(name)s” added.") % {"name": stage.name})
            return redirect("crm:pipeline_detail", pk=pipeline.pk)
    return _pipeline_page(request, pipeline, stage_form=form)


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def stage_edit(request, pk: int):
    stage = get_for_user(request.user, Stage.objects.select_related("pipeline"), PERM, pk=pk)
    initial = {"name": stage.name, "probability": stage.probability, "kind": stage.kind}
    form = StageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.stage_update(stage=stage, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Stage saved."))
            return redirect("crm:pipeline_detail", pk=stage.pipeline_id)
    return render(
        request,
        "crm/configuration/stage_edit.html",
        _ctx("pipelines", stage=stage, form=form),
        status=400 if form.errors else 200,
    )


@require_perm(PERM)
@require_POST
def stage_move(request, pk: int):
    stage = get_for_user(request.user, Stage.objects.all(), PERM, pk=pk)
    try:
        services.stage_move(stage=stage, direction=_direction(request), actor=request.user)
    except ValidationError as exc:
        _refusal(request, exc)
    return redirect("crm:pipeline_detail", pk=stage.pipeline_id)


@require_perm(PERM)
@require_POST
def stage_delete(request, pk: int):
    stage = get_for_user(request.user, Stage.objects.all(), PERM, pk=pk)
    try:
        deleted = services.stage_delete(stage=stage, actor=request.user)
    except ValidationError as exc:
        _refusal(request, exc)
    else:
        if deleted:
            messages.success(request, _("Stage “%(name)s” deleted.") % {"name": stage.name})
        else:
            messages.success(
                request,
                _("Stage “%(name)s” removed. Deal history still shows it, so it was archived, not erased.")
                % {"name": stage.name},
            )
    return redirect("crm:pipeline_detail", pk=stage.pipeline_id)


# --- lifecycle stages --------------------------------------------------------------------------------------------


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def lifecycle_list(request):
    form = LifecycleStageForm(request.POST or None, prefix="new")
    if request.method == "POST" and form.is_valid():
        try:
            stage = services.lifecycle_stage_create(label=form.cleaned_data["label"], actor=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Lifecycle stage “%(label)s” added.") % {"label": stage.label})
            return redirect("crm:lifecycle_list")
    return render(
        request,
        "crm/configuration/lifecycle_list.html",
        _ctx("lifecycle", stages=lifecycle_stages_with_usage(), form=form),
        status=400 if form.errors else 200,
    )


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def lifecycle_edit(request, pk: int):
    stage = get_for_user(request.user, LifecycleStage.objects.all(), PERM, pk=pk)
    form = LifecycleStageForm(request.POST or None, initial={"label": stage.label})
    if request.method == "POST" and form.is_valid():
        try:
            services.lifecycle_stage_rename(stage=stage, label=form.cleaned_data["label"], actor=request.user)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Lifecycle stage renamed."))
            return redirect("crm:lifecycle_list")
    return render(
        request,
        "crm/configuration/lifecycle_edit.html",
        _ctx("lifecycle", stage=stage, form=form),
        status=400 if form.errors else 200,
    )


@require_perm(PERM)
@require_POST
def lifecycle_move(request, pk: int):
    stage = get_for_user(request.user, LifecycleStage.objects.all(), PERM, pk=pk)
    try:
        services.lifecycle_stage_move(stage=stage, direction=_direction(request), actor=request.user)
    except ValidationError as exc:
        _refusal(request, exc)
    return redirect("crm:lifecycle_list")


@require_perm(PERM)
@require_POST
def lifecycle_set_active(request, pk: int):
    stage = get_for_user(request.user, LifecycleStage.objects.all(), PERM, pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.lifecycle_stage_set_active(stage=stage, active=active, actor=request.user)
    except ValidationError as exc:
        _refusal(request, exc)
    else:
        label = _(stage.label)
        if active:
            messages.success(request, _("“%(label)s” is active again.") % {"label": label})
        else:
            messages.success(request, _("“%(label)s” deactivated: records keep it.") % {"label": label})
    return redirect("crm:lifecycle_list")


@require_perm(PERM)
@require_POST
def lifecycle_delete(request, pk: int):
    stage = get_for_user(request.user, LifecycleStage.objects.all(), PERM, pk=pk)
    try:
        services.lifecycle_stage_delete(stage=stage, actor=request.user)
    except ValidationError as exc:
        _refusal(request, exc)
    else:
        messages.success(request, _("Lifecycle stage “%(label)s” deleted.") % {"label": _(stage.label)})
    return redirect("crm:lifecycle_list")


# --- custom properties -------------------------------------------------------------------------------------------


# Whole phrases per record type, so each language can word them its own way.
LIST_TITLES = {
    ObjectType.COMPANY: _L("Company properties"),
    ObjectType.CONTACT: _L("Contact properties"),
    ObjectType.DEAL: _L("Deal properties"),
}
NEW_TITLES = {
    ObjectType.COMPANY: _L("New company property"),
    ObjectType.CONTACT: _L("New contact property"),
    ObjectType.DEAL: _L("New deal property"),
}


def _titles(object_type: str) -> dict:
    return {"list_title": LIST_TITLES[object_type], "new_title": NEW_TITLES[object_type]}


def _object_type(request) -> str:
    value = request.GET.get("object", "")
    return value if value in ObjectType.values else ObjectType.COMPANY


def _properties_url(object_type: str) -> str:
    return f"{reverse('crm:property_list')}?object={object_type}"


@require_perm(PERM)
def property_list(request):
    object_type = _object_type(request)
    return render(
        request,
        "crm/configuration/property_list.html",
        _ctx(
            "properties",
            object_type=object_type,
            object_types=ObjectType.choices,
            **_titles(object_type),
            definitions=list(property_definitions(object_type=object_type)),
        ),
    )


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def property_create(request):
    object_type = _object_type(request)
    form = PropertyCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            definition = services.property_create(
                object_type=object_type,
                label=data["label"],
                key=data["key"],
                property_type=data["property_type"],
                choices_text=data["choices"],
                actor=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc, {"type": "property_type"})
        else:
            messages.success(request, _("Property “%(label)s” created.") % {"label": definition.label})
            return redirect(_properties_url(object_type))
    return render(
        request,
        "crm/configuration/property_form.html",
        _ctx("properties", form=form, object_type=object_type, **_titles(object_type)),
        status=400 if form.errors else 200,
    )


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def property_edit(request, pk: int):
    definition = get_for_user(request.user, PropertyDefinition.objects.all(), PERM, pk=pk)
    is_choice = definition.type == PropertyDefinition.Type.CHOICE
    form = PropertyEditForm(
        request.POST or None,
        initial={"label": definition.label, "choices": "\n".join(c["label"] for c in definition.choices)},
    )
    if not is_choice:
        del form.fields["choices"]
    if request.method == "POST" and form.is_valid():
        try:
            services.property_update(
                definition=definition,
                label=form.cleaned_data["label"],
                choices_text=form.cleaned_data.get("choices") if is_choice else None,
                actor=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Property saved."))
            return redirect(_properties_url(definition.object_type))
    return render(
        request,
        "crm/configuration/property_form.html",
        _ctx(
            "properties",
            form=form,
            definition=definition,
            object_type=definition.object_type,
            **_titles(definition.object_type),
        ),
        status=400 if form.errors else 200,
    )


@require_perm(PERM)
@require_POST
def property_move(request, pk: int):
    definition = get_for_user(request.user, PropertyDefinition.objects.all(), PERM, pk=pk)
    try:
        services.property_move(definition=definition, direction=_direction(request), actor=request.user)
    except ValidationError as exc:
        _refusal(request, exc)
    return redirect(_properties_url(definition.object_type))


@require_perm(PERM)
@require_POST
def property_archive(request, pk: int):
    definition = get_for_user(request.user, PropertyDefinition.objects.all(), PERM, pk=pk)
    archived = request.POST.get("archived") == "1"
    services.property_set_archived(definition=definition, archived=archived, actor=request.user)
    if archived:
        messages.success(
            request,
            _("“%(label)s” archived. Records keep their values; you can unarchive it.") % {"label": definition.label},
        )
    else:
        messages.success(request, _("“%(label)s” is back in forms and columns.") % {"label": definition.label})
    return redirect(_properties_url(definition.object_type))
