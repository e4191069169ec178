"""Reads for the import pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import QuerySet

from crm.fields import FieldSpec
from crm.imports import PREVIEW_ROWS
from crm.imports.mapping import importable_specs
from crm.imports.reader import csv_rows
from crm.models import ImportJob, ImportRowError

RUNNING = (ImportJob.Status.VALIDATING, ImportJob.Status.IMPORTING)


def progress_cache_key(job_id: int) -> str:
    return f"crm:import-progress:{job_id}"


def import_job_list() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("created_by")


def import_job_errors(*, job: ImportJob) -> QuerySet[ImportRowError]:
    return ImportRowError.objects.filter(job=job)


def import_job_processed(*, job: ImportJob) -> int:
    """Rows done so far. An import writes in one transaction, so it reports progress through the cache: the job row
    itself only changes when that transaction commits."""
    if job.status == ImportJob.Status.IMPORTING:
        return cache.get(progress_cache_key(job.pk), 0)
    return job.processed_rows


@dataclass
class Preview:
    columns: list[tuple[str, FieldSpec]]  # (CSV header, field) of the mapped columns
    rows: list[tuple[int, list[str]]]  # (row number, cells in the order of `columns`)
    samples: dict[str, str]  # CSV header -> first non-empty cell, to help choose its field


def import_preview(*, job: ImportJob, specs: list[FieldSpec], mapping: dict[str, str]) -> Preview:
    by_key = {s.key: s for s in importable_specs(specs)}
    indexed = [(i, h, by_key[mapping[h]]) for i, h in enumerate(job.headers) if h and mapping.get(h) in by_key]
    rows, samples = [], {}
    with job.file.open("rb") as binary:
        for row_number, cells in csv_rows(binary):
            if row_number == 1:
                continue
            for index, header in enumerate(job.headers):
                if header and header not in samples and index < len(cells) and cells[index].strip():
                    samples[header] = cells[index].strip()
            rows.append((row_number, [cells[i] if i < len(cells) else "" for i, _h, _s in indexed]))
            if len(rows) >= PREVIEW_ROWS:
                break
    return Preview(columns=[(h, s) for _i, h, s in indexed], rows=rows, samples=samples)
