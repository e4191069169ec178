"""The CRM's import: the shared pipeline (commerce_hub.imports.pipeline) with the CRM's fields, header names, row
checks and record writer. Checking and writing run in Celery tasks (crm.tasks), named by path."""

from __future__ import annotations

from django.conf import settings

from commerce_hub.imports.pipeline import ImportPipeline
from crm.fields import specs_for
from crm.imports.checks import RowChecker
from crm.imports.mapping import mapping_guess
from crm.imports.writer import RecordWriter
from crm.models import ImportJob, ImportRowError


class CrmImport(ImportPipeline):
    name = "crm.import"
    job_model = ImportJob
    error_model = ImportRowError
    validate_task = "crm.tasks.import_validate"
    run_task = "crm.tasks.import_run"

    def specs(self, job) -> list:
        return specs_for(job.object_type)

    def guess(self, headers: list[str], *, job) -> dict[str, str]:
        return mapping_guess(object_type=job.object_type, specs=self.specs(job), headers=headers)

    def checker(self, job) -> RowChecker:
        return RowChecker(object_type=job.object_type, headers=job.headers, mapping=job.mapping)

    def writer(self, job) -> RecordWriter:
        return RecordWriter(object_type=job.object_type, actor=job.created_by, job_id=job.pk)

    def language(self, job) -> str:
        """Numbers and dates are read, and messages written, in the language of the person who imports."""
        return getattr(job.created_by, "language", "") or settings.LANGUAGE_CODE


PIPELINE = CrmImport()
