"""Writing checked rows, a batch at a time: one INSERT per batch instead of one per row.

The values were parsed by crm.fields.parse_value (see checks.py), and are applied to the records the way
crm.services.records.record_create applies them: the same attributes, custom properties in `properties`, a Norwegian
company's default currency, a deal's pipeline taken from its stage and its first stage change recorded. Each batch
emits one "<object>.bulk_created" event listing the new ids, as bulk updates and deletes do.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from commerce_hub.events.services import event_emit
from commerce_hub.imports.pipeline import ImportRefused, RowWriter
from crm import events
from crm.fields import FieldSpec, spec_map
from crm.imports.checks import RowResult
from crm.models import Company, Contact, Deal, DealStageChange, Stage

MODELS: dict[str, type[Model]] = {"company": Company, "contact": Contact, "deal": Deal}


class RecordWriter(RowWriter):
    def __init__(self, *, object_type: str, actor, job_id: int):
        self.object_type = object_type
        self.model = MODELS[object_type]
        self.specs: dict[str, FieldSpec] = spec_map(object_type)
        self.actor = actor if getattr(actor, "pk", None) else None
        self.job_id = job_id
        self.stage_pipelines = dict(Stage.objects.values_list("pk", "pipeline_id")) if object_type == "deal" else {}

    def build(self, values: dict, now) -> Model:
        record = self.model()
        properties = {}
        for key, value in values.items():
            if value in ("", None):
                continue  # an empty cell keeps the field's default (country, lifecycle stage, language ...)
            spec = self.specs[key]
            if spec.is_custom:
                properties[spec.property_key] = value
            elif spec.type == "money":
                record.amount = value
            elif key != "amount_currency":
                setattr(record, spec.attr, value)
        # After the amount: assigning an amount must not reset the currency given in its own column.
        if values.get("amount_currency"):
            record.amount_currency = values["amount_currency"]
        record.properties = properties
        if self.object_type == "company" and not values.get("currency") and record.country == "NO":
            record.currency = "NOK"
        if self.object_type == "deal":
            record.pipeline_id = self.stage_pipelines[record.stage_id]
            record.stage_changed_at = now
        record.created_at = record.updated_at = now
        return record

    def write(self, results: list[RowResult], *, skip_invalid: bool) -> int:
        """Insert the rows of one batch. When a contact with one of these emails was saved after the batch was
        checked: with skip_invalid, keep the rows that do not collide; without, refuse the whole import."""
        try:
            ids = self.insert(results)
        except IntegrityError as exc:
            if not skip_invalid:
                raise ImportRefused(
                    _(
                        "Another contact was saved with an email from this file while it was imported. Nothing was "
                        "written; validate the file again."
                    )
                ) from exc
            ids, failed = self.write_each(results)
            for result in failed:
                result.error("email", _("Another contact already uses this email."))
        self.emit(ids)
        return len(ids)

    def insert(self, results: list[RowResult]) -> list[int]:
        """Insert the rows of one batch; raises IntegrityError (and writes nothing) if any of them collides."""
        now = timezone.now()
        records = [self.build(r.values, now) for r in results]
        with transaction.atomic():
            self.model.objects.bulk_create(records)
            self._after_insert(records, now)
        return [r.pk for r in records]

    def write_each(self, results: list[RowResult]) -> tuple[list[int], list[RowResult]]:
        """Insert row by row, each in its own savepoint: for a batch that collided, to keep the rows that do not."""
        ids, failed = [], []
        for result in results:
            try:
                ids += self.insert([result])
            except IntegrityError:
                failed.append(result)
        return ids, failed

    def _after_insert(self, records: list[Model], now) -> None:
        if self.object_type == "deal":
            DealStageChange.objects.bulk_create(
                DealStageChange(
                    deal_id=deal.pk, from_stage=None, to_stage_id=deal.stage_id, changed_at=now, changed_by=self.actor
                )
                for deal in records
            )

    def emit(self, ids: list[int]) -> None:
        if ids:
            event_emit(
                name=events.RECORD_BULK_CREATED[self.object_type], payload={"ids": ids, "import_job": self.job_id}
            )
