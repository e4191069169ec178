"""Reads for the import pages."""

from __future__ import annotations

from django.db.models import QuerySet

from commerce_hub.imports.pipeline import RUNNING, Preview
from crm.imports.pipeline import PIPELINE
from crm.models import ImportJob, ImportRowError

__all__ = ["RUNNING", "Preview"]


def progress_cache_key(job_id: int) -> str:
    return PIPELINE.progress_cache_key(job_id)


def import_job_list() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("created_by")


def import_job_errors(*, job: ImportJob) -> QuerySet[ImportRowError]:
    return ImportRowError.objects.filter(job=job)


def import_job_processed(*, job: ImportJob) -> int:
    """Rows done so far: an import writes in one transaction, so its progress comes from the cache."""
    return PIPELINE.processed(job)


def import_preview(*, job: ImportJob, specs, mapping: dict[str, str]) -> Preview:
    return PIPELINE.preview(job, mapping)
