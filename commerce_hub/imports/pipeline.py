"""The steps of every CSV import: upload -> map columns -> check every row -> write all rows or only the valid ones.

States: uploaded -> validating -> validated -> importing -> done, or failed. Each move is a conditional update, so a
double click or a task delivered twice cannot start the same step twice. Nothing is written while any row fails,
unless the user chose to skip the invalid rows; the write is one transaction either way, so a worker that dies
halfway leaves nothing behind and the redelivered task starts again from the first row.

An app describes its import with an ImportPipeline: its job and error models, its fields, a row checker (check_batch
returns one result per row, each with `row_number` and `errors`, a list of (CSV column, cell, message)) and a row
writer. Work that runs in the background goes through Celery tasks named by their dotted path, so the steps never
import the tasks that call them.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from commerce_hub.imports import BATCH_SIZE, PREVIEW_ROWS, PROGRESS_TTL
from commerce_hub.imports.mapping import importable_specs, mapping_errors, mapping_guess
from commerce_hub.imports.models import ImportStatus
from commerce_hub.imports.reader import csv_data_rows, csv_inspect, csv_rows

UPLOADED, VALIDATING, VALIDATED, IMPORTING, DONE, FAILED = ImportStatus.values
MAPPABLE = (UPLOADED, VALIDATED, FAILED)
RUNNING = (VALIDATING, IMPORTING)


class ImportRefused(Exception):  # noqa: N818 - an outcome, not a bug
    """Raised by a row writer when a row it was given can no longer be written and the whole import must stop
    (without skip_invalid): nothing is written, and the job fails with this message."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RowWriter:
    """Writes checked rows. `write` inserts a batch and returns how many rows it wrote; a row that cannot be
    written after all gets an error in its `errors` (with skip_invalid the others are kept), or the writer raises
    ImportRefused to stop the import."""

    def write(self, results: list, *, skip_invalid: bool) -> int:
        raise NotImplementedError


@dataclass
class Preview:
    columns: list[tuple[str, object]]  # (CSV header, field) of the mapped columns
    rows: list[tuple[int, list[str]]]  # (row number, cells in the order of `columns`)
    samples: dict[str, str]  # CSV header -> first non-empty cell, to help choose its field


class _Errors:
    """Every bad cell is counted; the first `limit` are kept for the report (all of them without a limit)."""

    def __init__(self, pipeline: ImportPipeline, job, limit: int | None):
        self.pipeline, self.job, self.limit, self.count, self.kept = pipeline, job, limit, 0, []

    def add(self, results: list) -> list:
        new = []
        for result in results:
            for column, value, message in result.errors:
                self.count += 1
                if self.limit is None or len(self.kept) < self.limit:
                    row = self.pipeline.error_model(
                        job=self.job,
                        row_number=result.row_number,
                        column=column[:200],
                        value=value[:500],
                        message=message[:500],
                    )
                    self.kept.append(row)
                    new.append(row)
        return new


class _NothingWritten(Exception):  # noqa: N818 - an outcome, not a bug
    def __init__(self, message: str, errors: _Errors, processed: int, valid: int):
        super().__init__(message)
        self.message, self.errors, self.processed, self.valid = message, errors, processed, valid


class ImportPipeline:
    """One kind of import. Subclasses set the models and names and implement specs, checker and writer."""

    name: str  # for locks and progress keys: "crm.import"
    job_model: type
    error_model: type
    validate_task: str  # dotted paths of the Celery tasks, called with the job id
    run_task: str
    synonyms: dict[str, list[str]] = {}
    inline_rows: int = 0  # files up to this many rows are checked and written during the request
    max_kept_errors: int | None = None
    clear_file: bool = False  # empty the job's file field once the rows are in (the file itself always goes)
    # Messages an import may word its own way (lazy strings, read in the importer's language).
    already_running = None
    check_crashed = None

    # --- what the app provides ------------------------------------------------------------------------------------

    def specs(self, job) -> list:
        raise NotImplementedError

    def checker(self, job):
        raise NotImplementedError

    def writer(self, job) -> RowWriter:
        raise NotImplementedError

    def language(self, job) -> str:
        raise NotImplementedError

    def guess(self, headers: list[str], *, job) -> dict[str, str]:
        return mapping_guess(specs=self.specs(job), headers=headers, synonyms=self.synonyms)

    # --- reads ----------------------------------------------------------------------------------------------------

    def progress_cache_key(self, job_id: int) -> str:
        return f"{self.name}-progress:{job_id}"

    def processed(self, job) -> int:
        """Rows done so far. The write is one transaction, so it reports progress through the cache: the job row
        itself only changes when that transaction commits."""
        if job.status == IMPORTING:
            return cache.get(self.progress_cache_key(job.pk), 0)
        return job.processed_rows

    def preview(self, job, mapping: dict[str, str]) -> Preview:
        by_key = {s.key: s for s in importable_specs(self.specs(job))}
        indexed = [(i, h, by_key[mapping[h]]) for i, h in enumerate(job.headers) if h and mapping.get(h) in by_key]
        rows, samples = [], {}
        if job.file:  # a job may empty its file once its rows are in
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

    # --- steps ----------------------------------------------------------------------------------------------------

    def create(self, *, upload, actor, **fields):
        """Store an uploaded CSV as a new import, each column mapped to the field its header names."""
        try:
            info = csv_inspect(upload)
        except ValidationError as exc:
            raise ValidationError({"file": exc.messages}) from exc
        job = self.job_model(
            original_name=upload.name[:255],
            headers=info.headers,
            total_rows=info.row_count,
            created_by=actor if getattr(actor, "pk", None) else None,
            **fields,
        )
        job.mapping = self.guess(info.headers, job=job)
        upload.seek(0)
        # A random name on disk: the user's file name never becomes a path, and the file's URL cannot be guessed.
        job.file.save(f"{uuid.uuid4().hex}.csv", upload, save=False)
        job.save()
        return job

    def _inline(self, job) -> bool:
        return job.total_rows <= self.inline_rows

    def _enqueue(self, task_path: str, job_id: int) -> None:
        # Imported when needed: the tasks call these steps, so the steps cannot import the tasks' module.
        import_string(task_path).delay_on_commit(job_id)

    def map(self, *, job, mapping: dict[str, str]):
        """Save the column mapping and check every row: now for small files, in a task for the others."""
        mapping = {header: mapping.get(header, "") or "" for header in job.headers if header}
        errors = mapping_errors(specs=self.specs(job), headers=job.headers, mapping=mapping)
        if errors:
            raise ValidationError({("__all__" if key is None else key): value for key, value in errors.items()})
        reset = {"error_count": 0} if self.max_kept_errors is not None else {}
        with transaction.atomic():
            updated = self.job_model.objects.filter(pk=job.pk, status__in=MAPPABLE).update(
                status=VALIDATING,
                mapping=mapping,
                processed_rows=0,
                valid_rows=0,
                imported_rows=0,
                skip_invalid=False,
                error="",
                finished_at=None,
                **reset,
            )
            if not updated:
                raise ValidationError(self.already_running or _("This import is already running."))
            self.error_model.objects.filter(job=job).delete()
            if not self._inline(job):
                self._enqueue(self.validate_task, job.pk)
        if self._inline(job):
            self.validate(job_id=job.pk)
        job.refresh_from_db()
        return job

    def start(self, *, job, skip_invalid: bool):
        """Start writing: all rows (only when none failed) or only the valid ones."""
        job.refresh_from_db()
        if job.status != VALIDATED:
            raise ValidationError(_("This import is not waiting to be started."))
        if not skip_invalid and job.valid_rows < job.total_rows:
            raise ValidationError(_("Some rows have errors. Fix the file, or import only the valid rows."))
        if job.valid_rows == 0:
            raise ValidationError(_("No row is valid, so there is nothing to import."))
        with transaction.atomic():
            updated = self.job_model.objects.filter(pk=job.pk, status=VALIDATED).update(
                status=IMPORTING, skip_invalid=skip_invalid, processed_rows=0, imported_rows=0
            )
            if not updated:
                raise ValidationError(_("This import is not waiting to be started."))
            if not self._inline(job):
                self._enqueue(self.run_task, job.pk)
        cache.delete(self.progress_cache_key(job.pk))
        if self._inline(job):
            self.run(job_id=job.pk)
        job.refresh_from_db()
        return job

    # --- the work -------------------------------------------------------------------------------------------------

    def _rows(self, job) -> Iterator[list[tuple[int, list[str]]]]:
        """The file's data rows in batches of BATCH_SIZE."""
        with job.file.open("rb") as binary:
            rows = csv_data_rows(binary)
            while batch := list(islice(rows, BATCH_SIZE)):
                yield batch

    @contextlib.contextmanager
    def _job_lock(self, job_id: int) -> Iterator[bool]:
        """A session lock per job, so a task delivered twice never checks the same job twice at the same time."""
        key = f"{connection.schema_name}:{self.name}:{job_id}"
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(hashtext(%s))", [key])
            acquired = cursor.fetchone()[0]
        try:
            yield acquired
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(hashtext(%s))", [key])

    def _fail(self, job_id: int, message: str, *, from_state: str) -> None:
        self.job_model.objects.filter(pk=job_id, status=from_state).update(
            status=FAILED, error=message, finished_at=timezone.now()
        )

    def _counts(self, errors: _Errors) -> dict:
        return {"error_count": errors.count} if self.max_kept_errors is not None else {}

    def validate(self, *, job_id: int) -> None:
        """Check every row and record each bad cell. Progress commits with each batch, for the progress bar."""
        job = self.job_model.objects.select_related("created_by").filter(pk=job_id).first()
        if job is None or job.status != VALIDATING:
            return
        with self._job_lock(job.pk) as acquired:
            if not acquired:
                return
            with translation.override(self.language(job)):
                try:
                    self._validate(job)
                except ValidationError as exc:  # the stored file could not be read after all
                    self._fail(job.pk, " ".join(exc.messages), from_state=VALIDATING)
                except Exception:
                    message = self.check_crashed or _("Validation stopped because of an unexpected error.")
                    self._fail(job.pk, message, from_state=VALIDATING)
                    raise

    def _validate(self, job) -> None:
        # A redelivered task starts again from the first row, so the errors of an earlier attempt go first.
        self.error_model.objects.filter(job=job).delete()
        checker = self.checker(job)
        errors = _Errors(self, job, self.max_kept_errors)
        processed = valid = 0
        for batch in self._rows(job):
            results = checker.check_batch(batch)
            processed += len(results)
            valid += sum(1 for r in results if not r.errors)
            with transaction.atomic():
                self.error_model.objects.bulk_create(errors.add(results))
                self.job_model.objects.filter(pk=job.pk).update(
                    processed_rows=processed, valid_rows=valid, **self._counts(errors)
                )
        self.job_model.objects.filter(pk=job.pk, status=VALIDATING).update(
            status=VALIDATED, total_rows=processed, processed_rows=processed, valid_rows=valid, **self._counts(errors)
        )

    def run(self, *, job_id: int) -> None:
        """Write the rows. Without skip_invalid, one row that fails now (a record someone saved since the check)
        rolls every row back."""
        job = self.job_model.objects.select_related("created_by").filter(pk=job_id).first()
        if job is None or job.status != IMPORTING:
            return
        with translation.override(self.language(job)):
            try:
                with transaction.atomic():
                    # The row lock makes a second delivery of this task wait, then find the job done.
                    locked = self.job_model.objects.select_for_update(of=("self",)).select_related("created_by")
                    locked = locked.get(pk=job_id)
                    if locked.status != IMPORTING:
                        return
                    imported, errors, processed, valid = self._write_all(locked)
                    self.error_model.objects.filter(job=locked).delete()
                    self.error_model.objects.bulk_create(errors.kept, batch_size=1000)
                    # The upload holds people's data and is no longer needed once its rows are in; the history keeps
                    # the counts and errors.
                    name, storage = locked.file.name, locked.file.storage
                    fields = ["status", "imported_rows", "processed_rows", "valid_rows", "finished_at"]
                    if self.clear_file:
                        locked.file = ""
                        fields.append("file")
                    for field, value in self._counts(errors).items():
                        setattr(locked, field, value)
                        fields.append(field)
                    locked.status, locked.imported_rows = DONE, imported
                    locked.processed_rows, locked.valid_rows, locked.finished_at = processed, valid, timezone.now()
                    locked.save(update_fields=fields)
                    transaction.on_commit(lambda: storage.delete(name) if name else None)
            except _NothingWritten as refused:
                with transaction.atomic():
                    updated = self.job_model.objects.filter(pk=job_id, status=IMPORTING).update(
                        status=FAILED,
                        error=refused.message,
                        processed_rows=refused.processed,
                        valid_rows=refused.valid,
                        imported_rows=0,
                        finished_at=timezone.now(),
                        **self._counts(refused.errors),
                    )
                    if updated:
                        self.error_model.objects.filter(job_id=job_id).delete()
                        self.error_model.objects.bulk_create(refused.errors.kept, batch_size=1000)
            except Exception:
                self._fail(
                    job_id,
                    _("The import stopped because of an unexpected error. Nothing was written."),
                    from_state=IMPORTING,
                )
                raise
            finally:
                cache.delete(self.progress_cache_key(job_id))

    def _write_all(self, job) -> tuple[int, _Errors, int, int]:
        checker, writer = self.checker(job), self.writer(job)
        errors = _Errors(self, job, self.max_kept_errors)
        imported = processed = valid = 0
        any_failed = False
        refused = ""
        for batch in self._rows(job):
            results = checker.check_batch(batch)
            good = [r for r in results if not r.errors]
            processed += len(results)
            any_failed = any_failed or len(good) < len(results)
            # Once a row has failed without skip_invalid, nothing will be kept: only check the rest, for the report.
            if good and (job.skip_invalid or not (any_failed or refused)):
                try:
                    imported += writer.write(good, skip_invalid=job.skip_invalid)
                except ImportRefused as exc:
                    refused = exc.message
                # A row that could not be written after all carries its error now.
                any_failed = any_failed or any(r.errors for r in good)
            valid += sum(1 for r in results if not r.errors)
            errors.add(results)
            cache.set(self.progress_cache_key(job.pk), processed, timeout=PROGRESS_TTL)
        if refused:
            raise _NothingWritten(refused, errors, processed, valid)
        if any_failed and not job.skip_invalid:
            raise _NothingWritten(
                _("Some rows failed, so nothing was written. Fix them, or import only the valid rows."),
                errors,
                processed,
                valid,
            )
        return imported, errors, processed, valid
