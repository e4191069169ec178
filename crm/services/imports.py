"""CSV imports: upload -> map columns -> validate (task) -> import all rows or only the valid ones (task).

States: uploaded -> validating -> validated -> importing -> done, or failed. Each move is a conditional update, so
a double click or a task delivered twice cannot start the same step twice. Nothing is written while any row fails,
unless the user chose to skip the invalid rows; the write is one transaction either way, so a worker that dies
halfway leaves nothing behind and the redelivered task starts again from the first row.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Iterator
from itertools import islice

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm.fields import specs_for
from crm.imports import BATCH_SIZE
from crm.imports.checks import RowChecker, RowResult
from crm.imports.mapping import mapping_errors, mapping_guess
from crm.imports.reader import csv_data_rows, csv_inspect
from crm.imports.selectors import progress_cache_key
from crm.imports.writer import RecordWriter
from crm.models import ImportJob, ImportRowError, ObjectType

logger = logging.getLogger(__name__)
Status = ImportJob.Status
MAPPABLE = (Status.UPLOADED, Status.VALIDATED, Status.FAILED)


def import_job_create(*, object_type: str, upload, actor) -> ImportJob:
    """Store an uploaded CSV as a new import, with each column mapped to the field its header names."""
    if object_type not in ObjectType.values:
        raise ValidationError({"object_type": [_("Unknown kind of record.")]})
    try:
        info = csv_inspect(upload)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from exc
    job = ImportJob(
        object_type=object_type,
        original_name=upload.name[:255],
        headers=info.headers,
        mapping=mapping_guess(object_type=object_type, specs=specs_for(object_type), headers=info.headers),
        total_rows=info.row_count,
        created_by=actor,
    )
    upload.seek(0)
    # A random name on disk: the user's file name never becomes a path, and the file's URL cannot be guessed.
    job.file.save(f"{uuid.uuid4().hex}.csv", upload, save=False)
    job.save()
    return job


def import_job_map(*, job: ImportJob, mapping: dict[str, str], actor) -> ImportJob:
    """Save the column mapping and start validating every row."""
    specs = specs_for(job.object_type)
    mapping = {header: mapping.get(header, "") or "" for header in job.headers if header}
    errors = mapping_errors(specs=specs, headers=job.headers, mapping=mapping)
    if errors:
        raise ValidationError({("__all__" if key is None else key): value for key, value in errors.items()})
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, status__in=MAPPABLE).update(
            status=Status.VALIDATING,
            mapping=mapping,
            processed_rows=0,
            valid_rows=0,
            imported_rows=0,
            skip_invalid=False,
            error="",
            finished_at=None,
        )
        if not updated:
            raise ValidationError(_("This import is already running."))
        ImportRowError.objects.filter(job=job).delete()
        from crm.tasks import import_validate

        import_validate.delay_on_commit(job.pk)
    job.refresh_from_db()
    return job


def import_job_start(*, job: ImportJob, skip_invalid: bool, actor) -> ImportJob:
    """Start writing: all rows (only when none failed validation) or only the valid ones."""
    job.refresh_from_db()
    if job.status != Status.VALIDATED:
        raise ValidationError(_("This import is not waiting to be started."))
    if not skip_invalid and job.valid_rows < job.total_rows:
        raise ValidationError(_("Some rows have errors. Fix the file, or import only the valid rows."))
    if job.valid_rows == 0:
        raise ValidationError(_("No row is valid, so there is nothing to import."))
    with transaction.atomic():
        updated = ImportJob.objects.filter(pk=job.pk, status=Status.VALIDATED).update(
            status=Status.IMPORTING, skip_invalid=skip_invalid, processed_rows=0, imported_rows=0
        )
        if not updated:
            raise ValidationError(_("This import is not waiting to be started."))
        from crm.tasks import import_run

        import_run.delay_on_commit(job.pk)
    cache.delete(progress_cache_key(job.pk))
    job.refresh_from_db()
    return job


@contextlib.contextmanager
def _language_of(job: ImportJob) -> Iterator[None]:
    """Numbers and dates are read, and messages written, in the language of the person who imports."""
    language = getattr(job.created_by, "language", "") or settings.LANGUAGE_CODE
    with translation.override(language):
        yield


@contextlib.contextmanager
def _job_lock(job: ImportJob) -> Iterator[bool]:
    """A session lock per job, so a task delivered twice never validates the same job twice at the same time."""
    key = f"{connection.schema_name}:crm.import:{job.pk}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])


def _row_errors(job: ImportJob, results: list[RowResult]) -> list[ImportRowError]:
    return [
        ImportRowError(job=job, row_number=r.row_number, column=column[:200], value=value[:500], message=message[:500])
        for r in results
        for column, value, message in r.errors
    ]


def _rows(job: ImportJob) -> Iterator[list[tuple[int, list[str]]]]:
    """The file's data rows in batches of BATCH_SIZE."""
    with job.file.open("rb") as binary:
        rows = csv_data_rows(binary)
        while batch := list(islice(rows, BATCH_SIZE)):
            yield batch


def _fail(job_id: int, status: str, message: str) -> None:
    ImportJob.objects.filter(pk=job_id, status=status).update(
        status=Status.FAILED, error=message, finished_at=timezone.now()
    )


def import_job_validate(*, job_id: int) -> None:
    """Check every row and record each bad cell. Progress commits with each batch, for the page's progress bar."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status != Status.VALIDATING:
        return
    with _job_lock(job) as acquired:
        if not acquired:
            return
        with _language_of(job):
            try:
                _validate(job)
            except ValidationError as exc:  # the stored file could not be read after all
                _fail(job.pk, Status.VALIDATING, " ".join(exc.messages))
            except Exception:
                _fail(job.pk, Status.VALIDATING, _("Validation stopped because of an unexpected error."))
                raise


def _validate(job: ImportJob) -> None:
    # A redelivered task starts again from the first row, so the errors of an earlier attempt go first.
    ImportRowError.objects.filter(job=job).delete()
    checker = RowChecker(object_type=job.object_type, headers=job.headers, mapping=job.mapping)
    processed = valid = 0
    for batch in _rows(job):
        results = checker.check_batch(batch)
        processed += len(results)
        valid += sum(1 for r in results if not r.errors)
        with transaction.atomic():
            ImportRowError.objects.bulk_create(_row_errors(job, results))
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=processed, valid_rows=valid)
    ImportJob.objects.filter(pk=job.pk, status=Status.VALIDATING).update(
        status=Status.VALIDATED, total_rows=processed, processed_rows=processed, valid_rows=valid
    )


class _NothingWritten(Exception):  # noqa: N818 - an outcome, not a bug
    def __init__(self, message: str, errors: list[ImportRowError], processed: int, valid: int):
        super().__init__(message)
        self.message, self.errors, self.processed, self.valid = message, errors, processed, valid


def import_job_run(*, job_id: int) -> None:
    """Write the rows. Without skip_invalid, one row that fails now (for example an email someone else saved since
    validation) rolls every row back."""
    job = ImportJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.status != Status.IMPORTING:
        return
    with _language_of(job):
        try:
            with transaction.atomic():
                # The row lock makes a second delivery of this task wait, then find the job done.
                locked = ImportJob.objects.select_for_update(of=("self",)).select_related("created_by").get(pk=job_id)
                if locked.status != Status.IMPORTING:
                    return
                imported, errors, processed, valid = _write(locked)
                ImportRowError.objects.filter(job=locked).delete()
                ImportRowError.objects.bulk_create(errors, batch_size=1000)
                locked.status = Status.DONE
                locked.imported_rows = imported
                locked.processed_rows = processed
                locked.valid_rows = valid
                locked.finished_at = timezone.now()
                locked.save(update_fields=["status", "imported_rows", "processed_rows", "valid_rows", "finished_at"])
                # The upload holds people's personal data; once its rows are in, the file itself goes.
                name, storage = locked.file.name, locked.file.storage
                transaction.on_commit(lambda: storage.delete(name) if name else None)
        except _NothingWritten as refused:
            with transaction.atomic():
                updated = ImportJob.objects.filter(pk=job_id, status=Status.IMPORTING).update(
                    status=Status.FAILED,
                    error=refused.message,
                    processed_rows=refused.processed,
                    valid_rows=refused.valid,
                    imported_rows=0,
                    finished_at=timezone.now(),
                )
                if updated:
                    ImportRowError.objects.filter(job_id=job_id).delete()
                    ImportRowError.objects.bulk_create(refused.errors, batch_size=1000)
        except Exception:
            _fail(
                job_id, Status.IMPORTING, _("The import stopped because of an unexpected error. Nothing was written.")
            )
            raise
        finally:
            cache.delete(progress_cache_key(job_id))


def _write(job: ImportJob) -> tuple[int, list[ImportRowError], int, int]:
    checker = RowChecker(object_type=job.object_type, headers=job.headers, mapping=job.mapping)
    writer = RecordWriter(object_type=job.object_type, actor=job.created_by, job_id=job.pk)
    errors: list[ImportRowError] = []
    imported = processed = valid = 0
    any_failed = collided = False
    for batch in _rows(job):
        results = checker.check_batch(batch)
        good = [r for r in results if not r.errors]
        processed += len(results)
        valid += len(good)
        any_failed = any_failed or len(good) < len(results)
        # Once a row has failed without skip_invalid, nothing will be kept: only check the rest, for the report.
        if good and (job.skip_invalid or not (any_failed or collided)):
            try:
                ids = writer.write(good)
            except IntegrityError:
                # Another contact with one of these emails was saved after this batch was checked.
                if not job.skip_invalid:
                    collided = True
                    ids = []
                else:
                    ids, failed = writer.write_each(good)
                    for result in failed:
                        result.error("email", _("Another contact already uses this email."))
                    valid -= len(failed)
            writer.emit(ids)
            imported += len(ids)
        errors += _row_errors(job, results)
        cache.set(progress_cache_key(job.pk), processed, timeout=3600)
    if collided:
        raise _NothingWritten(
            _(
                "Another contact was saved with an email from this file while it was imported. Nothing was written; "
                "validate the file again."
            ),
            errors,
            processed,
            valid,
        )
    if any_failed and not job.skip_invalid:
        raise _NothingWritten(
            _("Some rows failed, so nothing was written. Fix them, or import only the valid rows."),
            errors,
            processed,
            valid,
        )
    return imported, errors, processed, valid
