"""Writes to companies, contacts and deals. Every field goes through crm.fields, whatever screen it came from."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.services import event_emit
from crm import events
from crm.deletion import deletion_check
from crm.fields import FieldSpec, parse_value, spec_map
from crm.models import Company, Contact, Deal, DealStageChange, Stage

MODELS: dict[str, type[Model]] = {"company": Company, "contact": Contact, "deal": Deal}


def object_type_of(record: Model) -> str:
    return {Company: "company", Contact: "contact", Deal: "deal"}[type(record)]


def _parse(object_type: str, data: dict, record: Model | None) -> dict[str, object]:
    """Parse every given field; collect every error, keyed by field, before raising."""
    specs = spec_map(object_type)
    values, errors = {}, {}
    context = {
        "country": data.get("country") or getattr(record, "country", ""),
        "currency": data.get("amount_currency") or getattr(record, "amount_currency", "") or "EUR",
    }
    if object_type == "deal":
        context["pipeline"] = getattr(record, "pipeline_id", None)
    unknown = [key for key in data if key not in specs]
    for key in unknown:
        errors[key] = [_("Unknown field.")]
    for key, raw in data.items():
        spec = specs.get(key)
        if spec is None:
            continue
        if not spec.editable:
            errors[key] = [_("This field cannot be changed.")]
            continue
        try:
            values[key] = parse_value(spec, raw, context=context)
        except ValidationError as exc:
            errors[key] = exc.messages
    if record is None:
        for spec in specs.values():
            if spec.required and spec.key not in data:
                errors.setdefault(spec.key, [_("This field is required.")])
    if errors:
        raise ValidationError(errors)
    return values


def _apply(record: Model, object_type: str, values: dict[str, object]) -> None:
    specs = spec_map(object_type)
    properties = dict(record.properties or {})
    for key, value in values.items():
        spec: FieldSpec = specs[key]
        if spec.is_custom:
            if value is None:
                properties.pop(spec.property_key, None)
            else:
                properties[spec.property_key] = value
        elif spec.type == "money":
            record.amount = value
        elif spec.type == "currency" and key == "amount_currency":
            record.amount_currency = value
        else:
            setattr(record, spec.attr, value)
    record.properties = properties


def _check_unique_email(email: str, exclude_pk: int | None) -> None:
    qs = Contact.objects.filter(email__iexact=email)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"email": [_("Another contact already uses this email.")]})


def record_create(*, object_type: str, data: dict, actor) -> Model:
    data = {k: v for k, v in data.items() if not (object_type == "company" and k == "currency" and v in ("", None))}
    values = _parse(object_type, data, None)
    model = MODELS[object_type]
    record = model()
    with transaction.atomic():
        if object_type == "contact":
            _check_unique_email(values["email"], None)
        if object_type == "deal":
            stage = Stage.objects.select_related("pipeline").get(pk=values["stage"])
            record.pipeline_id = stage.pipeline_id
        _apply(record, object_type, values)
        if object_type == "company" and not data.get("currency"):
            record.currency = "NOK" if record.country == "NO" else record.currency
        record.created_at = record.updated_at = timezone.now()
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError as exc:  # a concurrent create with the same email
            raise ValidationError({"email": [_("Another contact already uses this email.")]}) from exc
        if object_type == "deal":
            DealStageChange.objects.create(
                deal=record,
                from_stage=None,
                to_stage_id=record.stage_id,
                changed_by=actor if getattr(actor, "pk", None) else None,
            )
        event_emit(name=events.RECORD_CREATED[object_type], payload={"id": record.pk})
    return record


def record_update(*, record: Model, changes: dict, actor) -> Model:
    object_type = object_type_of(record)
    with transaction.atomic():
        locked = type(record).objects.select_for_update().get(pk=record.pk)
        values = _parse(object_type, changes, locked)
        if object_type == "contact" and "email" in values:
            _check_unique_email(values["email"], locked.pk)
        old_stage_id = getattr(locked, "stage_id", None)
        _apply(locked, object_type, values)
        locked.updated_at = timezone.now()
        locked.save()
        if object_type == "deal" and locked.stage_id != old_stage_id:
            _record_stage_change(locked, old_stage_id, actor)
        event_emit(name=events.RECORD_UPDATED[object_type], payload={"id": locked.pk, "fields": sorted(values)})
    return locked


def _record_stage_change(deal: Deal, old_stage_id: int | None, actor) -> None:
    deal.stage_changed_at = timezone.now()
    Deal.objects.filter(pk=deal.pk).update(stage_changed_at=deal.stage_changed_at)
    DealStageChange.objects.create(
        deal=deal,
        from_stage_id=old_stage_id,
        to_stage_id=deal.stage_id,
        changed_by=actor if getattr(actor, "pk", None) else None,
    )
    event_emit(
        name=events.DEAL_STAGE_CHANGED, payload={"id": deal.pk, "from_stage": old_stage_id, "to_stage": deal.stage_id}
    )


def deal_move_stage(*, deal: Deal, stage_id: int, actor) -> Deal:
    """Move a deal to another stage of its pipeline (the board's drag and drop)."""
    with transaction.atomic():
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        stage = Stage.objects.filter(pk=stage_id, pipeline_id=locked.pipeline_id).first()
        if stage is None:
            raise ValidationError(_("That stage is not part of this deal's pipeline."))
        if stage.pk == locked.stage_id:
            return locked
        old = locked.stage_id
        locked.stage = stage
        locked.updated_at = timezone.now()
        locked.save(update_fields=["stage", "updated_at"])
        _record_stage_change(locked, old, actor)
    return locked


def record_delete(*, record: Model, actor) -> None:
    object_type = object_type_of(record)
    with transaction.atomic():
        # Apps above the CRM keep records their documents need (a finalized invoice's buyer): crm.deletion.
        deletion_check(object_type=object_type, ids=[record.pk])
        audit_record(actor=actor, action=f"{object_type}.deleted", obj=record)
        event_emit(name=events.RECORD_DELETED[object_type], payload={"id": record.pk})
        record.delete()


BULK_FIELDS = {"owner", "lifecycle_stage", "stage"}


def records_bulk_update(*, object_type: str, ids: list[int], key: str, raw, actor) -> int:
    """Set one field on many records in one statement (assign owner, change lifecycle stage or deal stage)."""
    if key not in BULK_FIELDS or key not in spec_map(object_type):
        raise ValidationError({key: [_("This field cannot be changed in bulk.")]})
    spec = spec_map(object_type)[key]
    value = parse_value(spec, raw)
    model = MODELS[object_type]
    now = timezone.now()
    with transaction.atomic():
        qs = model.objects.filter(pk__in=ids)
        if key == "stage":
            stage = Stage.objects.get(pk=value)
            # Locked first, so a drag on the board between reading and writing cannot make the history lie.
            moved = list(
                qs.filter(pipeline_id=stage.pipeline_id)
                .exclude(stage_id=stage.pk)
                .select_for_update()
                .values_list("pk", "stage_id")
            )
            count = Deal.objects.filter(pk__in=[pk for pk, _old in moved]).update(
                stage_id=stage.pk, stage_changed_at=now, updated_at=now
            )
            DealStageChange.objects.bulk_create(
                DealStageChange(deal_id=pk, from_stage_id=old, to_stage_id=stage.pk, changed_at=now, changed_by=actor)
                for pk, old in moved
            )
        else:
            count = qs.update(**{spec.attr: value, "updated_at": now})
        audit_record(
            actor=actor,
            action=f"{object_type}.bulk_updated",
            object_type=f"crm.{object_type}",
            object_repr=f"{count} records",
            after={"field": key, "value": str(value), "ids": ids[:500]},
        )
        event_emit(name=events.RECORD_BULK_UPDATED[object_type], payload={"ids": ids, "field": key})
    return count


def records_bulk_delete(*, object_type: str, ids: list[int], actor) -> int:
    model = MODELS[object_type]
    with transaction.atomic():
        qs = model.objects.filter(pk__in=ids)
        deletion_check(object_type=object_type, ids=ids)
        count = qs.count()
        audit_record(
            actor=actor,
            action=f"{object_type}.bulk_deleted",
            object_type=f"crm.{object_type}",
            object_repr=f"{count} records",
            before={"ids": ids[:500]},
        )
        event_emit(name=events.RECORD_BULK_DELETED[object_type], payload={"ids": ids})
        qs.delete()
    return count
