"""The product import: the shared pipeline (commerce_hub.imports.pipeline) with the product columns, row checks and
a writer through the product services. Files up to SYNC_ROWS rows are checked and written during the request; larger
files in Celery tasks (billing.tasks), named by path. Each import keeps its ProductImportJob row (its history stays)
and its first MAX_KEPT_ERRORS errors."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.imports import MAX_KEPT_ERRORS, SYNC_ROWS
from billing.imports.checks import ProductRowChecker, RowResult
from billing.imports.fields import SYNONYMS, import_specs
from billing.models import ProductImportJob, ProductImportRowError
from billing.services.products import products_bulk_create
from commerce_hub.imports.pipeline import UPLOADED, ImportPipeline, Preview, RowWriter

__all__ = ["UPLOADED", "Preview"]


class ProductWriter(RowWriter):
    def __init__(self, job: ProductImportJob):
        self.actor, self.source = job.created_by, {"import": job.pk}

    def write(self, results: list[RowResult], *, skip_invalid: bool) -> int:
        """Insert a batch in one go; when a SKU was taken since the check, row by row to find the rows that collide
        (each in a savepoint), which get an error. Without skip_invalid the first collision ends the write."""
        try:
            with transaction.atomic():
                return len(products_bulk_create(inputs=[r.data for r in results], actor=self.actor, source=self.source))
        except IntegrityError:
            pass
        written = 0
        for result in results:
            try:
                with transaction.atomic():
                    written += len(products_bulk_create(inputs=[result.data], actor=self.actor, source=self.source))
            except IntegrityError:
                column, value = result.sku_cell
                result.errors.append((column, value, _("A product with this SKU already exists.")))
                result.data = None
                if not skip_invalid:
                    break
        return written


class ProductImport(ImportPipeline):
    name = "billing.product-import"
    job_model = ProductImportJob
    error_model = ProductImportRowError
    validate_task = "billing.tasks.product_import_validate"
    run_task = "billing.tasks.product_import_run"
    synonyms = SYNONYMS
    inline_rows = SYNC_ROWS
    max_kept_errors = MAX_KEPT_ERRORS
    clear_file = True
    already_running = gettext_lazy("This import is already running or has finished.")
    check_crashed = gettext_lazy("Checking stopped because of an unexpected error.")

    def specs(self, job) -> list:
        return import_specs()

    def checker(self, job) -> ProductRowChecker:
        return ProductRowChecker(headers=job.headers, mapping=job.mapping, default_currency=job.default_currency)

    def writer(self, job) -> ProductWriter:
        return ProductWriter(job)

    def language(self, job) -> str:
        return job.language


PIPELINE = ProductImport()


# --- reads ----------------------------------------------------------------------------------------------------------


def product_import_list() -> QuerySet[ProductImportJob]:
    return ProductImportJob.objects.select_related("created_by")


def product_import_errors(*, job: ProductImportJob) -> QuerySet:
    """(row, column, value, message) of each kept error, in row order."""
    return ProductImportRowError.objects.filter(job=job).values_list("row_number", "column", "value", "message")


def progress_cache_key(job_id: int) -> str:
    return PIPELINE.progress_cache_key(job_id)


def product_import_processed(*, job: ProductImportJob) -> int:
    return PIPELINE.processed(job)


def product_import_preview(*, job: ProductImportJob, mapping: dict[str, str]) -> Preview:
    """The first rows of the mapped columns; each column as (CSV header, field label)."""
    preview = PIPELINE.preview(job, mapping)
    preview.columns = [(header, str(spec.label)) for header, spec in preview.columns]
    return preview


# --- steps ----------------------------------------------------------------------------------------------------------


def product_import_create(*, upload, actor, default_currency: str) -> ProductImportJob:
    """Store an uploaded CSV as a new import, each column mapped to the field its header names."""
    return PIPELINE.create(
        upload=upload,
        actor=actor,
        language=translation.get_language() or "en",
        default_currency=default_currency,
    )


def product_import_map(*, job: ProductImportJob, mapping: dict[str, str], actor) -> ProductImportJob:
    """Save the column mapping and check every row: now for small files, in a task for large ones."""
    return PIPELINE.map(job=job, mapping=mapping)


def product_import_start(*, job: ProductImportJob, skip_invalid: bool, actor) -> ProductImportJob:
    """Start writing: all rows (only when none failed) or only the valid ones."""
    return PIPELINE.start(job=job, skip_invalid=skip_invalid)


def product_import_validate(*, job_id: int) -> None:
    PIPELINE.validate(job_id=job_id)


def product_import_run(*, job_id: int) -> None:
    PIPELINE.run(job_id=job_id)
