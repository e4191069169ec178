"""CSV imports of companies, contacts and deals: the shared import pipeline (commerce_hub.imports.pipeline) with
the CRM's fields, row checks and record writer (crm.imports.pipeline)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from commerce_hub.imports.pipeline import MAPPABLE
from crm.imports.pipeline import PIPELINE
from crm.models import ImportJob, ObjectType

__all__ = ["MAPPABLE", "PIPELINE"]


def import_job_create(*, object_type: str, upload, actor) -> ImportJob:
    """Store an uploaded CSV as a new import, with each column mapped to the field its header names."""
    if object_type not in ObjectType.values:
        raise ValidationError({"object_type": [_("Unknown kind of record.")]})
    return PIPELINE.create(upload=upload, actor=actor, object_type=object_type)


def import_job_map(*, job: ImportJob, mapping: dict[str, str], actor) -> ImportJob:
    """Save the column mapping and start validating every row."""
    return PIPELINE.map(job=job, mapping=mapping)


def import_job_start(*, job: ImportJob, skip_invalid: bool, actor) -> ImportJob:
    """Start writing: all rows (only when none failed validation) or only the valid ones."""
    return PIPELINE.start(job=job, skip_invalid=skip_invalid)


def import_job_validate(*, job_id: int) -> None:
    PIPELINE.validate(job_id=job_id)


def import_job_run(*, job_id: int) -> None:
    PIPELINE.run(job_id=job_id)
