"""The steps of a product import: upload -> map columns -> check every row -> import all rows or only valid ones.

States: uploaded -> validating -> validated -> importing -> done, or failed. Each import is a ProductImportJob row
(its history stays), its errors ProductImportRowError rows, and its file sits in the tenant's storage until the rows
are in. Each move is a conditional update, so a double click or a task delivered twice cannot start the same step
twice. Nothing is written while any row fails unless the user chose to skip invalid rows; the write is one
transaction either way, so a worker that dies halfway leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.imports import BATCH_SIZE, MAX_KEPT_ERRORS, PREVIEW_ROWS, PROGRESS_TTL, SYNC_ROWS
from billing.imports.checks import ProductRowChecker, RowResult
from billing.imports.fields import SYNONYMS, import_specs
from billing.models import ProductImportJob, ProductImportRowError
from billing.services.products import products_bulk_create
from crm.imports.mapping import mapping_errors, mapping_guess, normalize_header
from crm.imports.reader import csv_data_rows, csv_inspect, csv_rows

Status = ProductImportJob.Status
UPLOADED, VALIDATING, VALIDATED, IMPORTING, DONE, FAILED = Status.values
MAPPABLE = (UPLOADED, VALIDATED, FAILED)
RUNNING = (VALIDATING, IMPORTING)


# --- reads ----------------------------------------------------------------------------------------------------------


def product_import_list() -> QuerySet[ProductImportJob]:
    return ProductImportJob.objects.select_related("created_by")


def product_import_errors(*, job: ProductImportJob) -> QuerySet:
    """(row, column, value, message) of each kept error, in row order."""
    return ProductImportRowError.objects.filter(job=job).values_list("row_number", "column", "value", "message")


def progress_cache_key(job_id: int) -> str:
    return f"billing:product-import-progress:{job_id}"


def product_import_processed(*, job: ProductImportJob) -> int:
    """Rows done so far. The write is one transaction, so it reports progress through the cache: the job row itself
    only changes when that transaction commits."""
    if job.status == IMPORTING:
        return cache.get(progress_cache_key(job.pk), 0)
    return job.processed_rows


# --- steps ----------------------------------------------------------------------------------------------------------


def _guess(headers: list[str]) -> dict[str, str]:
    mapping = mapping_guess(object_type="product", specs=import_specs(), headers=headers)
    synonyms = {normalize_header(word): key for key, words in SYNONYMS.items() for word in words}
    used = {key for key in mapping.values() if key}
    for header in headers:
        if header and not mapping.get(header):
            key = synonyms.get(normalize_header(header), "")
            if key and key not in used:
                mapping[header] = key
                used.add(key)
    return mapping


def product_import_create(*, upload, actor, default_currency: str) -> ProductImportJob:
    """Store an uploaded CSV as a new import, each column mapped to the field its header names."""
    try:
        info = csv_inspect(upload)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from exc
    job = ProductImportJob(
        original_name=upload.name[:255],
        headers=info.headers,
        mapping=_guess(info.headers),
        total_rows=info.row_count,
        created_by=actor if getattr(actor, "pk", None) else None,
        language=translation.get_language() or "en",
        default_currency=default_currency,
    )
    upload.seek(0)
    # A random name on disk: the user's file name never becomes a path, and the file cannot be guessed.
    job.file.save(f"{uuid.uuid4().hex}.csv", upload, save=False)
    job.save()
    return job


def product_import_map(*, job: ProductImportJob, mapping: dict[str, str], actor) -> ProductImportJob:
    """Save the column mapping and check every row: now for small files, in a task for large ones."""
    mapping = {header: mapping.get(header, "") or "" for header in job.headers if header}
    errors = mapping_errors(specs=import_specs(), headers=job.headers, mapping=mapping)
    if errors:
        raise ValidationError({("__all__" if key is None else key): value for key, value in errors.items()})
    with transaction.atomic():
        updated = ProductImportJob.objects.filter(pk=job.pk, status__in=MAPPABLE).update(
            status=VALIDATING,
            mapping=mapping,
            processed_rows=0,
            valid_rows=0,
            imported_rows=0,
            error_count=0,
            skip_invalid=False,
            error="",
            finished_at=None,
        )
        if not updated:
            raise ValidationError(_("This import is already running or has finished."))
        ProductImportRowError.objects.filter(job=job).delete()
        if job.total_rows > SYNC_ROWS:
            from billing.tasks import product_import_validate as task

            task.delay_on_commit(job.pk)
    if job.total_rows <= SYNC_ROWS:
        product_import_validate(job_id=job.pk)
    job.refresh_from_db()
    return job


def product_import_start(*, job: ProductImportJob, skip_invalid: bool, actor) -> ProductImportJob:
    """Start writing: all rows (only when none failed) or only the valid ones."""
    job.refresh_from_db()
    if job.status != VALIDATED:
        raise ValidationError(_("This import is not waiting to be started."))
    if not skip_invalid and job.valid_rows < job.total_rows:
        raise ValidationError(_("Some rows have errors. Fix the file, or import only the valid rows."))
    if job.valid_rows == 0:
        raise ValidationError(_("No row is valid, so there is nothing to import."))
    with transaction.atomic():
        updated = ProductImportJob.objects.filter(pk=job.pk, status=VALIDATED).update(
            status=IMPORTING, skip_invalid=skip_invalid, processed_rows=0, imported_rows=0
        )
        if not updated:
            raise ValidationError(_("This import is already running or has finished."))
        if job.total_rows > SYNC_ROWS:
            from billing.tasks import product_import_run as task

            task.delay_on_commit(job.pk)
    cache.delete(progress_cache_key(job.pk))
    if job.total_rows <= SYNC_ROWS:
        product_import_run(job_id=job.pk)
    job.refresh_from_db()
    return job


# --- the work -------------------------------------------------------------------------------------------------------


def _rows(job: ProductImportJob) -> Iterator[list[tuple[int, list[str]]]]:
    with job.file.open("rb") as binary:
        rows = csv_data_rows(binary)
        while batch := list(islice(rows, BATCH_SIZE)):
            yield batch


def _checker(job: ProductImportJob) -> ProductRowChecker:
    return ProductRowChecker(headers=job.headers, mapping=job.mapping, default_currency=job.default_currency)


class _Errors:
    """Every bad cell is counted; the first MAX_KEPT_ERRORS are kept for the report and its CSV."""

    def __init__(self, job: ProductImportJob):
        self.job, self.count, self.kept = job, 0, []

    def add(self, results: list[RowResult]) -> list[ProductImportRowError]:
        new = []
        for result in results:
            for column, value, message in result.errors:
                self.count += 1
                if len(self.kept) < MAX_KEPT_ERRORS:
                    row = ProductImportRowError(
                        job=self.job,
                        row_number=result.row_number,
                        column=column[:200],
                        value=value[:500],
                        message=message[:500],
                    )
                    self.kept.append(row)
                    new.append(row)
        return new


@contextlib.contextmanager
def _job_lock(job_id: int) -> Iterator[bool]:
    """A session lock per job, so a task delivered twice never checks the same job twice at the same time."""
    key = f"{connection.schema_name}:billing.product-import:{job_id}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])


def _fail(job_id: int, message: str, *, from_state: str) -> None:
    ProductImportJob.objects.filter(pk=job_id, status=from_state).update(
        status=FAILED, error=message, finished_at=timezone.now()
    )


def product_import_validate(*, job_id: int) -> None:
    """Check every row and keep each bad cell; progress commits with each batch, for the progress bar."""
    job = ProductImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status != VALIDATING:
        return
    with _job_lock(job.pk) as acquired:
        if not acquired:
            return
        with translation.override(job.language):
            try:
                _validate(job)
            except ValidationError as exc:  # the stored file could not be read after all
                _fail(job.pk, " ".join(exc.messages), from_state=VALIDATING)
            except Exception:
                _fail(job.pk, _("Checking stopped because of an unexpected error."), from_state=VALIDATING)
                raise


def _validate(job: ProductImportJob) -> None:
    # A redelivered task starts again from the first row, so the errors of an earlier attempt go first.
    ProductImportRowError.objects.filter(job=job).delete()
    checker = _checker(job)
    errors = _Errors(job)
    processed = valid = 0
    for batch in _rows(job):
        results = checker.check_batch(batch)
        processed += len(results)
        valid += sum(1 for r in results if r.data is not None)
        with transaction.atomic():
            ProductImportRowError.objects.bulk_create(errors.add(results))
            ProductImportJob.objects.filter(pk=job.pk).update(
                processed_rows=processed, valid_rows=valid, error_count=errors.count
            )
    ProductImportJob.objects.filter(pk=job.pk, status=VALIDATING).update(
        status=VALIDATED, total_rows=processed, processed_rows=processed, valid_rows=valid, error_count=errors.count
    )


class _NothingWritten(Exception):  # noqa: N818 - an outcome, not a bug
    def __init__(self, errors: _Errors, processed: int, valid: int):
        super().__init__()
        self.errors, self.processed, self.valid = errors, processed, valid


def product_import_run(*, job_id: int) -> None:
    """Write the valid rows. Without skip_invalid, one row that fails now (a SKU someone saved since the check)
    rolls every row back."""
    job = ProductImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status != IMPORTING:
        return
    with translation.override(job.language):
        try:
            with transaction.atomic():
                # The row lock makes a second delivery of this task wait, then find the job done.
                locked = ProductImportJob.objects.select_for_update(of=("self",)).select_related("created_by")
                locked = locked.get(pk=job_id)
                if locked.status != IMPORTING:
                    return
                imported, errors, processed, valid = _write_all(locked)
                ProductImportRowError.objects.filter(job=locked).delete()
                ProductImportRowError.objects.bulk_create(errors.kept, batch_size=1000)
                # The upload is no longer needed once its rows are in; the history keeps the counts and errors.
                name, storage = locked.file.name, locked.file.storage
                locked.file = ""
                locked.status, locked.imported_rows, locked.error_count = DONE, imported, errors.count
                locked.processed_rows, locked.valid_rows, locked.finished_at = processed, valid, timezone.now()
                locked.save()
                transaction.on_commit(lambda: storage.delete(name) if name else None)
        except _NothingWritten as refused:
            with transaction.atomic():
                updated = ProductImportJob.objects.filter(pk=job_id, status=IMPORTING).update(
                    status=FAILED,
                    error=_("Some rows failed, so nothing was written. Fix them, or import only the valid rows."),
                    processed_rows=refused.processed,
                    valid_rows=refused.valid,
                    imported_rows=0,
                    error_count=refused.errors.count,
                    finished_at=timezone.now(),
                )
                if updated:
                    ProductImportRowError.objects.filter(job_id=job_id).delete()
                    ProductImportRowError.objects.bulk_create(refused.errors.kept, batch_size=1000)
        except Exception:
            _fail(
                job_id,
                _("The import stopped because of an unexpected error. Nothing was written."),
                from_state=IMPORTING,
            )
            raise
        finally:
            cache.delete(progress_cache_key(job_id))


def _write_all(job: ProductImportJob) -> tuple[int, _Errors, int, int]:
    checker = _checker(job)
    errors = _Errors(job)
    processed = valid = imported = 0
    any_failed = False
    for batch in _rows(job):
        results = checker.check_batch(batch)
        good = [r for r in results if r.data is not None]
        processed += len(results)
        any_failed = any_failed or len(good) < len(results)
        if good and (job.skip_invalid or not any_failed):
            written, lost = _write(good, actor=job.created_by, job_id=job.pk, skip_invalid=job.skip_invalid)
            imported += written
            any_failed = any_failed or bool(lost)
        valid += sum(1 for r in results if r.data is not None)
        errors.add(results)
        cache.set(progress_cache_key(job.pk), processed, timeout=PROGRESS_TTL)
    if any_failed and not job.skip_invalid:
        raise _NothingWritten(errors, processed, valid)
    return imported, errors, processed, valid


def _write(results: list[RowResult], *, actor, job_id: int, skip_invalid: bool) -> tuple[int, list[RowResult]]:
    """Insert a batch in one go; when a SKU was taken since the check, row by row to find the rows that collide
    (each in a savepoint). Returns the number written and the rows that could not be."""
    source = {"import": job_id}
    try:
        with transaction.atomic():
            return len(products_bulk_create(inputs=[r.data for r in results], actor=actor, source=source)), []
    except IntegrityError:
        pass
    written, lost = 0, []
    for result in results:
        try:
            with transaction.atomic():
                written += len(products_bulk_create(inputs=[result.data], actor=actor, source=source))
        except IntegrityError:
            result.errors.append((result.sku_cell[0], result.sku_cell[1], _("A product with this SKU already exists.")))
            result.data = None
            lost.append(result)
            if not skip_invalid:
                break
    return written, lost


# --- preview ------------------------------------------------------------------------------------------------------


@dataclass
class Preview:
    columns: list[tuple[str, str]]  # (CSV header, field label) of the mapped columns
    rows: list[tuple[int, list[str]]]
    samples: dict[str, str]  # CSV header -> its first non-empty cell


def product_import_preview(*, job: ProductImportJob, mapping: dict[str, str]) -> Preview:
    labels = {s.key: str(s.label) for s in import_specs()}
    indexed = [(i, h, labels[mapping[h]]) for i, h in enumerate(job.headers) if h and mapping.get(h) in labels]
    rows, samples = [], {}
    if not job.file:  # deleted once its rows were imported
        return Preview(columns=[(h, label) for _i, h, label in indexed], rows=rows, samples=samples)
    with job.file.open("rb") as binary:
        for row_number, cells in csv_rows(binary):
            if row_number == 1:
                continue
            for index, header in enumerate(job.headers):
                if header and header not in samples and index < len(cells) and cells[index].strip():
                    samples[header] = cells[index].strip()
            rows.append((row_number, [cells[i] if i < len(cells) else "" for i, _h, _l in indexed]))
            if len(rows) >= PREVIEW_ROWS:
                break
    return Preview(columns=[(h, label) for _i, h, label in indexed], rows=rows, samples=samples)
