"""What admins configure: pipelines and their stages, lifecycle stages, custom properties.

Each function is one transaction that writes its audit row. Records keep stable keys and ids (a deal's stage id, a
contact's lifecycle key, a property's internal name), so renaming and reordering never touch a record.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Model, ProtectedError, Q, QuerySet
from django.db.models.functions import Lower
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.numbers import parse_decimal_localized
from crm.fields import specs_forget
from crm.models import (
    Company,
    Contact,
    Deal,
    DealStageChange,
    LifecycleStage,
    ObjectType,
    Pipeline,
    PropertyDefinition,
    Stage,
)
from crm.selectors import lifecycle_labels_forget

UP, DOWN = "up", "down"
PROPERTY_KEY_RE = re.compile(r"[a-z][a-z0-9_]*")
MAX_CHOICES = 200


# --- helpers -----------------------------------------------------------------------------------------------------


def _clean_name(value, *, field: str, max_length: int) -> str:
    text = " ".join(str(value or "").split())
    if not text:
        raise ValidationError({field: [_("This field is required.")]})
    if len(text) > max_length:
        raise ValidationError(
            {field: [_("Use at most %(max)s characters (it has %(count)s).") % {"max": max_length, "count": len(text)}]}
        )
    return text


def _next_position(qs: QuerySet) -> int:
    current = qs.aggregate(top=Max("position"))["top"]
    return 0 if current is None else current + 1


def _move(siblings: QuerySet, obj: Model, direction: str) -> None:
    """Swap obj with its neighbour and renumber the siblings 0..n-1 (old rows may share a position).

    The siblings are locked first, so two admins reordering at once cannot interleave their renumbering.
    """
    if direction not in (UP, DOWN):
        raise ValidationError(_("Move up or down."))
    items = list(siblings.select_for_update().order_by("position", "id"))
    index = next((i for i, item in enumerate(items) if item.pk == obj.pk), None)
    if index is None:
        return
    target = index - 1 if direction == UP else index + 1
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
    changed = []
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position
            changed.append(item)
    if changed:
        type(obj).objects.bulk_update(changed, ["position"])


def _parse_probability(value) -> Decimal:
    try:
        probability = value if isinstance(value, Decimal) else parse_decimal_localized(str(value))
    except ValidationError as exc:
        raise ValidationError({"probability": [_("Enter a number from 0 to 100.")]}) from exc
    if not probability.is_finite() or probability < 0 or probability > 100:
        raise ValidationError({"probability": [_("Enter a number from 0 to 100.")]})
    if probability != probability.quantize(Decimal("0.01")):
        raise ValidationError({"probability": [_("Use at most two decimals.")]})
    return probability.quantize(Decimal("0.01"))


def _parse_kind(value) -> str:
    if value not in Stage.Kind.values:
        raise ValidationError({"kind": [_("Choose open, won or lost.")]})
    return value


def _stage_snapshot(stage: Stage) -> dict:
    return {
        "pipeline": stage.pipeline_id,
        "name": stage.name,
        "probability": str(stage.probability),
        "kind": stage.kind,
        "position": stage.position,
    }


# --- pipelines ---------------------------------------------------------------------------------------------------


def _check_pipeline_name_free(name: str, exclude_pk: int | None = None) -> None:
    qs = Pipeline.objects.filter(name__iexact=name)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"name": [_("Another pipeline is already called “%(name)s”.") % {"name": name}]})


def pipeline_create(*, name: str, actor) -> Pipeline:
    name = _clean_name(name, field="name", max_length=100)
    with transaction.atomic():
        _check_pipeline_name_free(name)
        pipeline = Pipeline.objects.create(
            name=name,
            position=_next_position(Pipeline.objects.all()),
            is_default=not Pipeline.objects.filter(is_default=True).exists(),
        )
        audit_record(actor=actor, action="crm.pipeline_created", obj=pipeline, after={"name": name})
    return pipeline


def pipeline_rename(*, pipeline: Pipeline, name: str, actor) -> Pipeline:
    name = _clean_name(name, field="name", max_length=100)
    with transaction.atomic():
        locked = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        _check_pipeline_name_free(name, exclude_pk=locked.pk)
        before = {"name": locked.name}
        locked.name = name
        locked.save(update_fields=["name"])
        audit_record(actor=actor, action="crm.pipeline_renamed", obj=locked, before=before, after={"name": name})
    return locked


def pipeline_make_default(*, pipeline: Pipeline, actor) -> Pipeline:
    with transaction.atomic():
        # The partial unique constraint allows one default: clear the old one before setting the new one.
        previous = list(Pipeline.objects.select_for_update().filter(is_default=True).exclude(pk=pipeline.pk))
        Pipeline.objects.filter(pk__in=[p.pk for p in previous]).update(is_default=False)
        Pipeline.objects.filter(pk=pipeline.pk).update(is_default=True)
        pipeline.is_default = True
        audit_record(
            actor=actor,
            action="crm.pipeline_made_default",
            obj=pipeline,
            before={"default": [p.pk for p in previous]},
            after={"default": pipeline.pk},
        )
    return pipeline


def pipeline_move(*, pipeline: Pipeline, direction: str, actor) -> None:
    with transaction.atomic():
        _move(Pipeline.objects.all(), pipeline, direction)
        audit_record(actor=actor, action="crm.pipeline_moved", obj=pipeline, after={"direction": direction})


def pipeline_delete(*, pipeline: Pipeline, actor) -> None:
    """Refused while any deal is in the pipeline, and for the last pipeline (every deal needs one)."""
    with transaction.atomic():
        locked = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        # Locking the pipeline row first: a deal created concurrently in it waits on its FK check.
        deals = Deal.objects.filter(pipeline=locked).count()
        if deals:
            raise ValidationError(
                ngettext(
                    "%(count)s deal is in this pipeline. Move or delete it first.",
                    "%(count)s deals are in this pipeline. Move or delete them first.",
                    deals,
                )
                % {"count": deals}
            )
        others = Pipeline.objects.exclude(pk=locked.pk).order_by("position", "id")
        if not others.exists():
            raise ValidationError(_("This is the only pipeline. Create another one before deleting it."))
        audit_record(
            actor=actor,
            action="crm.pipeline_deleted",
            obj=locked,
            before={"name": locked.name, "stages": [s.name for s in locked.stages.all()]},
        )
        was_default = locked.is_default
        try:
            with transaction.atomic():
                locked.delete()
        except ProtectedError as exc:  # stage history of deals that were moved to another pipeline
            raise ValidationError(
                _("Deals that moved elsewhere still list this pipeline's stages in their history.")
            ) from exc
        if was_default:
            others.filter(pk=others.first().pk).update(is_default=True)


# --- stages ------------------------------------------------------------------------------------------------------


def _check_stage_name_free(pipeline_id: int, name: str, exclude_pk: int | None = None) -> None:
    # Imports and bulk edits find a stage by its name within the pipeline, so names must not repeat there.
    qs = Stage.objects.filter(pipeline_id=pipeline_id, name__iexact=name)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"name": [_("This pipeline already has a stage called “%(name)s”.") % {"name": name}]})


def stage_create(*, pipeline: Pipeline, name: str, probability, kind: str, actor) -> Stage:
    name = _clean_name(name, field="name", max_length=100)
    errors = {}
    try:
        probability = _parse_probability(probability)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        kind = _parse_kind(kind)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        Pipeline.objects.select_for_update().get(pk=pipeline.pk)
        _check_stage_name_free(pipeline.pk, name)
        stage = Stage.objects.create(
            pipeline=pipeline,
            name=name,
            probability=probability,
            kind=kind,
            position=_next_position(Stage.objects.filter(pipeline=pipeline)),
        )
        audit_record(actor=actor, action="crm.stage_created", obj=stage, after=_stage_snapshot(stage))
    return stage


def stage_update(*, stage: Stage, name: str, probability, kind: str, actor) -> Stage:
    """Rename, set the win probability and the kind (open, won or lost) in one change."""
    name = _clean_name(name, field="name", max_length=100)
    errors = {}
    try:
        probability = _parse_probability(probability)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        kind = _parse_kind(kind)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Stage.objects.select_for_update().get(pk=stage.pk)
        _check_stage_name_free(locked.pipeline_id, name, exclude_pk=locked.pk)
        before = _stage_snapshot(locked)
        locked.name, locked.probability, locked.kind = name, probability, kind
        locked.save(update_fields=["name", "probability", "kind"])
        audit_record(actor=actor, action="crm.stage_updated", obj=locked, before=before, after=_stage_snapshot(locked))
    return locked


def stage_move(*, stage: Stage, direction: str, actor) -> None:
    with transaction.atomic():
        _move(Stage.objects.filter(pipeline_id=stage.pipeline_id), stage, direction)
        audit_record(actor=actor, action="crm.stage_moved", obj=stage, after={"direction": direction})


def stage_delete(*, stage: Stage, actor) -> bool:
    """Refused while deals are in the stage (the message says how many) and for a pipeline's last stage.

    Returns True when the stage was deleted, False when it was archived: deal history refers to it.
    """
    with transaction.atomic():
        locked = Stage.objects.select_for_update().get(pk=stage.pk)
        deals = Deal.objects.filter(stage=locked).count()
        if deals:
            raise ValidationError(
                ngettext(
                    "%(count)s deal is in this stage. Move it to another stage first.",
                    "%(count)s deals are in this stage. Move them to another stage first.",
                    deals,
                )
                % {"count": deals}
            )
        if not Stage.objects.filter(pipeline_id=locked.pipeline_id).exclude(pk=locked.pk).exists():
            raise ValidationError(_("A pipeline needs at least one stage."))
        # Stage history keeps every stage a deal ever passed through (time in stage, win rates); it is not
        # rewritten: a stage that appears in it is archived instead, gone from the board, forms and filters.
        if DealStageChange.objects.filter(Q(from_stage=locked) | Q(to_stage=locked)).exists():
            Stage.objects.filter(pk=locked.pk).update(is_archived=True)
            audit_record(actor=actor, action="crm.stage_archived", obj=locked, before=_stage_snapshot(locked))
            return False
        audit_record(actor=actor, action="crm.stage_deleted", obj=locked, before=_stage_snapshot(locked))
        locked.delete()
        return True


# --- lifecycle stages --------------------------------------------------------------------------------------------


def _lifecycle_forget() -> None:
    # Forget now for this request, and again after commit: a reader between the two could have cached the old
    # labels from the last committed state.
    lifecycle_labels_forget()
    transaction.on_commit(lifecycle_labels_forget)


def _check_lifecycle_label_free(label: str, exclude_pk: int | None = None) -> None:
    # Imports match a lifecycle stage by its label too, so labels must not repeat.
    qs = LifecycleStage.objects.annotate(lower=Lower("label")).filter(lower=label.lower())
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"label": [_("Another lifecycle stage is called “%(label)s”.") % {"label": label}]})


def _unique_key(base: str, taken: set[str], max_length: int, fallback: str) -> str:
    base = (slugify(base).replace("-", "_").strip("_") or fallback)[:max_length]
    if not base[0].isalpha():
        base = f"{fallback}_{base}"[:max_length]
    key, n = base, 2
    while key in taken:
        suffix = f"_{n}"
        key = base[: max_length - len(suffix)] + suffix
        n += 1
    return key


def lifecycle_stage_create(*, label: str, actor) -> LifecycleStage:
    label = _clean_name(label, field="label", max_length=80)
    with transaction.atomic():
        _check_lifecycle_label_free(label)
        taken = set(LifecycleStage.objects.values_list("key", flat=True))
        stage = LifecycleStage.objects.create(
            key=_unique_key(label, taken, 40, "stage"),
            label=label,
            position=_next_position(LifecycleStage.objects.all()),
        )
        audit_record(
            actor=actor, action="crm.lifecycle_stage_created", obj=stage, after={"key": stage.key, "label": label}
        )
        _lifecycle_forget()
    return stage


def lifecycle_stage_rename(*, stage: LifecycleStage, label: str, actor) -> LifecycleStage:
    label = _clean_name(label, field="label", max_length=80)
    with transaction.atomic():
        locked = LifecycleStage.objects.select_for_update().get(pk=stage.pk)
        _check_lifecycle_label_free(label, exclude_pk=locked.pk)
        before = {"label": locked.label}
        locked.label = label
        locked.save(update_fields=["label"])
        audit_record(
            actor=actor, action="crm.lifecycle_stage_renamed", obj=locked, before=before, after={"label": label}
        )
        _lifecycle_forget()
    return locked


def lifecycle_stage_move(*, stage: LifecycleStage, direction: str, actor) -> None:
    with transaction.atomic():
        _move(LifecycleStage.objects.all(), stage, direction)
        audit_record(actor=actor, action="crm.lifecycle_stage_moved", obj=stage, after={"direction": direction})
        _lifecycle_forget()


def lifecycle_stage_set_active(*, stage: LifecycleStage, active: bool, actor) -> LifecycleStage:
    """A deactivated stage keeps its records and label but cannot be chosen for a record any more."""
    with transaction.atomic():
        locked = LifecycleStage.objects.select_for_update().get(pk=stage.pk)
        others_active = LifecycleStage.objects.filter(is_active=True).exclude(pk=locked.pk)
        if not active and locked.is_active and not others_active.exists():
            raise ValidationError(_("Keep at least one lifecycle stage active."))
        before = {"is_active": locked.is_active}
        locked.is_active = active
        locked.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="crm.lifecycle_stage_activated" if active else "crm.lifecycle_stage_deactivated",
            obj=locked,
            before=before,
            after={"is_active": active},
        )
        _lifecycle_forget()
    return locked


def lifecycle_stage_delete(*, stage: LifecycleStage, actor) -> None:
    """Only a stage no record uses: records store the key, and deleting it would leave them pointing at nothing."""
    with transaction.atomic():
        locked = LifecycleStage.objects.select_for_update().get(pk=stage.pk)
        used = (
            Company.objects.filter(lifecycle_stage=locked.key).count()
            + Contact.objects.filter(lifecycle_stage=locked.key).count()
        )
        if used:
            raise ValidationError(
                ngettext(
                    "%(count)s company or contact is in this stage. Deactivate the stage instead.",
                    "%(count)s companies and contacts are in this stage. Deactivate the stage instead.",
                    used,
                )
                % {"count": used}
            )
        if locked.is_active and not LifecycleStage.objects.filter(is_active=True).exclude(pk=locked.pk).exists():
            raise ValidationError(_("Keep at least one lifecycle stage active."))
        audit_record(
            actor=actor,
            action="crm.lifecycle_stage_deleted",
            obj=locked,
            before={"key": locked.key, "label": locked.label},
        )
        locked.delete()
        _lifecycle_forget()


# --- custom properties -------------------------------------------------------------------------------------------


def _properties_forget() -> None:
    # As for lifecycle labels: now for this request, and after commit for everyone else.
    specs_forget()
    transaction.on_commit(specs_forget)


def _parse_choice_lines(text: str, existing: list[dict] | None = None) -> list[dict]:
    """One option per line. Options already defined keep their stored value, so records keep pointing at them."""
    existing = existing or []
    by_label = {c["label"].lower(): c["value"] for c in existing}
    taken = {c["value"] for c in existing}
    labels = [" ".join(line.split()) for line in str(text or "").splitlines()]
    labels = [label for label in labels if label]
    if not labels:
        raise ValidationError({"choices": [_("Enter at least one option, one per line.")]})
    if len(labels) > MAX_CHOICES:
        raise ValidationError({"choices": [_("Use at most %(max)s options.") % {"max": MAX_CHOICES}]})
    seen: set[str] = set()
    choices = []
    for label in labels:
        if len(label) > 120:
            raise ValidationError(
                {"choices": [_("“%(label)s…” is longer than 120 characters.") % {"label": label[:40]}]}
            )
        if label.lower() in seen:
            raise ValidationError({"choices": [_("“%(label)s” is listed twice.") % {"label": label}]})
        seen.add(label.lower())
        value = by_label.get(label.lower())
        if value is None:
            value = _unique_key(label, taken, 60, "option")
            taken.add(value)
        choices.append({"value": value, "label": label})
    return choices


def _property_snapshot(definition: PropertyDefinition) -> dict:
    return {
        "object_type": definition.object_type,
        "key": definition.key,
        "label": definition.label,
        "type": definition.type,
        "choices": [c["label"] for c in definition.choices],
        "is_archived": definition.is_archived,
    }


def property_create(
    *, object_type: str, label: str, property_type: str, key: str = "", choices_text: str = "", actor
) -> PropertyDefinition:
    """The internal name comes from the label unless given; it is unique per object type and never changes."""
    errors: dict[str, list[str]] = {}
    if object_type not in ObjectType.values:
        raise ValidationError({"object_type": [_("Choose companies, contacts or deals.")]})
    try:
        label = _clean_name(label, field="label", max_length=120)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if property_type not in PropertyDefinition.Type.values:
        errors["type"] = [_("Choose one of the listed types.")]
    key = str(key or "").strip().lower()
    if not key and "label" not in errors:
        key = (slugify(label).replace("-", "_").strip("_") or "property")[:60]
        if not key[0].isalpha():
            key = f"p_{key}"[:60]
    if key and (len(key) > 60 or not PROPERTY_KEY_RE.fullmatch(key)):
        errors["key"] = [
            _("Use lowercase letters, digits and underscores, starting with a letter (at most 60 characters).")
        ]
    choices: list[dict] = []
    if property_type == PropertyDefinition.Type.CHOICE:
        try:
            choices = _parse_choice_lines(choices_text)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        if PropertyDefinition.objects.filter(object_type=object_type, key=key).exists():
            raise ValidationError(
                {
                    "key": [
                        {
                            ObjectType.COMPANY: _(
                                "A company property with the internal name “%(key)s” already exists."
                            ),
                            ObjectType.CONTACT: _(
                                "A contact property with the internal name “%(key)s” already exists."
                            ),
                            ObjectType.DEAL: _("A deal property with the internal name “%(key)s” already exists."),
                        }[object_type]
                        % {"key": key}
                    ]
                }
            )
        definition = PropertyDefinition.objects.create(
            object_type=object_type,
            key=key,
            label=label,
            type=property_type,
            choices=choices,
            position=_next_position(PropertyDefinition.objects.filter(object_type=object_type)),
        )
        _properties_forget()
        audit_record(actor=actor, action="crm.property_created", obj=definition, after=_property_snapshot(definition))
    return definition


def property_update(
    *, definition: PropertyDefinition, label: str, choices_text: str | None = None, actor
) -> PropertyDefinition:
    """Rename a property, and for a choice property edit its options. Its type and internal name never change:
    stored values were parsed for that type and records and saved views refer to the name."""
    label = _clean_name(label, field="label", max_length=120)
    with transaction.atomic():
        locked = PropertyDefinition.objects.select_for_update().get(pk=definition.pk)
        before = _property_snapshot(locked)
        fields = ["label"]
        locked.label = label
        if locked.type == PropertyDefinition.Type.CHOICE and choices_text is not None:
            locked.choices = _parse_choice_lines(choices_text, existing=locked.choices)
            fields.append("choices")
        locked.save(update_fields=fields)
        _properties_forget()
        audit_record(
            actor=actor,
            action="crm.property_updated",
            obj=locked,
            before=before,
            after=_property_snapshot(locked),
        )
    return locked


def property_set_archived(*, definition: PropertyDefinition, archived: bool, actor) -> PropertyDefinition:
    """Archived properties disappear from forms, columns and imports; their stored values stay in the records."""
    with transaction.atomic():
        locked = PropertyDefinition.objects.select_for_update().get(pk=definition.pk)
        before = {"is_archived": locked.is_archived}
        locked.is_archived = archived
        locked.save(update_fields=["is_archived"])
        _properties_forget()
        audit_record(
            actor=actor,
            action="crm.property_archived" if archived else "crm.property_unarchived",
            obj=locked,
            before=before,
            after={"is_archived": archived},
        )
    return locked


def property_move(*, definition: PropertyDefinition, direction: str, actor) -> None:
    with transaction.atomic():
        _move(PropertyDefinition.objects.filter(object_type=definition.object_type), definition, direction)
        _properties_forget()
        audit_record(actor=actor, action="crm.property_moved", obj=definition, after={"direction": direction})
