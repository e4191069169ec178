"""The steps of a product import: upload -> map columns -> check every row -> import all rows or only valid ones.

States: uploaded -> validating -> validated -> importing -> done, or failed. An import's state lives in the tenant's
cache (keys carry the schema) under an unguessable token, and its file in the tenant's storage; there is no import
table for products. A step moves the state on under a short lock (cache.add is atomic in Redis), so a double click
or a task delivered twice cannot start the same step twice. Nothing is written while any row fails unless the user
chose to skip invalid rows; the write is one transaction either way, so a worker that dies halfway leaves nothing.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.imports import BATCH_SIZE, MAX_KEPT_ERRORS, PREVIEW_ROWS, STATE_TTL, SYNC_ROWS
from billing.imports.checks import ProductRowChecker, RowResult
from billing.imports.fields import SYNONYMS, import_specs
from billing.services.products import products_bulk_create
from commerce_hub.accounts.models import User
from crm.imports.mapping import mapping_errors, mapping_guess, normalize_header
from crm.imports.reader import csv_data_rows, csv_inspect, csv_rows

UPLOADED, VALIDATING, VALIDATED, IMPORTING, DONE, FAILED = (
    "uploaded",
    "validating",
    "validated",
    "importing",
    "done",
    "failed",
)
MAPPABLE = (UPLOADED, VALIDATED, FAILED)
RUNNING = (VALIDATING, IMPORTING)


@dataclass
class ProductImport:
    token: str
    path: str  # in the tenant's default storage
    original_name: str
    headers: list[str]
    mapping: dict[str, str]
    total_rows: int
    created_by_id: int | None
    language: str
    default_currency: str
    created_at: str
    status: str = UPLOADED
    processed_rows: int = 0
    valid_rows: int = 0
    imported_rows: int = 0
    skip_invalid: bool = False
    error: str = ""
    error_count: int = 0
    errors: list[list] = field(default_factory=list)  # [row, column, value, message], the first MAX_KEPT_ERRORS

    @property
    def invalid_rows(self) -> int:
        return max(self.total_rows - self.valid_rows, 0)

    @property
    def running(self) -> bool:
        return self.status in RUNNING

    @property
    def mappable(self) -> bool:
        return self.status in MAPPABLE


def _key(token: str) -> str:
    return f"billing:product-import:{token}"


def _save(job: ProductImport) -> None:
    cache.set(_key(job.token), asdict(job), timeout=STATE_TTL)


def product_import_get(token: str) -> ProductImport | None:
    if not token or len(token) > 64:
        return None
    state = cache.get(_key(token))
    return ProductImport(**state) if state else None


@contextlib.contextmanager
def _lock(token: str, *, seconds: int) -> Iterator[bool]:
    key = f"{_key(token)}:lock"
    acquired = cache.add(key, "1", timeout=seconds)
    try:
        yield acquired
    finally:
        if acquired:
            cache.delete(key)


def _move(token: str, *, from_states: tuple[str, ...], to: str, **changes) -> ProductImport:
    """Move an import to the next state, only from the states it may come from."""
    with _lock(token, seconds=30) as acquired:
        job = product_import_get(token)
        if not acquired or job is None or job.status not in from_states:
            raise ValidationError(_("This import is already running or has finished."))
        job.status = to
        for name, value in changes.items():
            setattr(job, name, value)
        _save(job)
        return job


# --- steps ------------------------------------------------------------------------------------------------------


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


def product_import_create(*, upload, actor, default_currency: str) -> ProductImport:
    """Store an uploaded CSV as a new import, each column mapped to the field its header names."""
    try:
        info = csv_inspect(upload)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from exc
    token = secrets.token_urlsafe(24)
    upload.seek(0)
    # A random name on disk: the user's file name never becomes a path, and the file cannot be guessed.
    path = default_storage.save(f"imports/products/{token}.csv", upload)
    job = ProductImport(
        token=token,
        path=path,
        original_name=upload.name[:255],
        headers=info.headers,
        mapping=_guess(info.headers),
        total_rows=info.row_count,
        created_by_id=getattr(actor, "pk", None),
        language=translation.get_language() or "en",
        default_currency=default_currency,
        created_at=timezone.now().isoformat(),
    )
    _save(job)
    return job


def product_import_map(*, job: ProductImport, mapping: dict[str, str], actor) -> ProductImport:
    """Save the column mapping and check every row: now for small files, in a task for large ones."""
    mapping = {header: mapping.get(header, "") or "" for header in job.headers if header}
    errors = mapping_errors(specs=import_specs(), headers=job.headers, mapping=mapping)
    if errors:
        raise ValidationError({("__all__" if key is None else key): value for key, value in errors.items()})
    job = _move(
        job.token,
        from_states=MAPPABLE,
        to=VALIDATING,
        mapping=mapping,
        processed_rows=0,
        valid_rows=0,
        imported_rows=0,
        skip_invalid=False,
        error="",
        error_count=0,
        errors=[],
    )
    if job.total_rows <= SYNC_ROWS:
        product_import_validate(token=job.token)
    else:
        from billing.tasks import product_import_validate as task

        task.delay_on_commit(job.token)
    return product_import_get(job.token) or job


def product_import_start(*, job: ProductImport, skip_invalid: bool, actor) -> ProductImport:
    """Start writing: all rows (only when none failed) or only the valid ones."""
    if job.status != VALIDATED:
        raise ValidationError(_("This import is not waiting to be started."))
    if not skip_invalid and job.valid_rows < job.total_rows:
        raise ValidationError(_("Some rows have errors. Fix the file, or import only the valid rows."))
    if job.valid_rows == 0:
        raise ValidationError(_("No row is valid, so there is nothing to import."))
    job = _move(job.token, from_states=(VALIDATED,), to=IMPORTING, skip_invalid=skip_invalid, processed_rows=0)
    if job.total_rows <= SYNC_ROWS:
        product_import_run(token=job.token)
    else:
        from billing.tasks import product_import_run as task

        task.delay_on_commit(job.token)
    return product_import_get(job.token) or job


# --- the work -------------------------------------------------------------------------------------------------------


def _rows(job: ProductImport) -> Iterator[list[tuple[int, list[str]]]]:
    with default_storage.open(job.path, "rb") as binary:
        rows = csv_data_rows(binary)
        while batch := list(islice(rows, BATCH_SIZE)):
            yield batch


def _checker(job: ProductImport) -> ProductRowChecker:
    return ProductRowChecker(headers=job.headers, mapping=job.mapping, default_currency=job.default_currency)


def _collect(job: ProductImport, results: list[RowResult]) -> None:
    for result in results:
        for column, value, message in result.errors:
            job.error_count += 1
            if len(job.errors) < MAX_KEPT_ERRORS:
                job.errors.append([result.row_number, column[:200], value[:500], message[:500]])


def _progress(token: str, processed: int) -> None:
    job = product_import_get(token)
    if job is not None:
        job.processed_rows = processed
        _save(job)


def _fail(token: str, message: str, *, from_state: str) -> None:
    job = product_import_get(token)
    if job is not None and job.status == from_state:
        job.status, job.error = FAILED, message
        _save(job)


def product_import_validate(*, token: str) -> None:
    """Check every row and keep each bad cell; progress is saved with each batch, for the progress bar."""
    job = product_import_get(token)
    if job is None or job.status != VALIDATING:
        return
    with _lock(f"{token}:work", seconds=3600) as acquired:
        if not acquired:
            return
        with translation.override(job.language):
            try:
                checker = _checker(job)
                processed = valid = 0
                job.errors, job.error_count = [], 0
                for batch in _rows(job):
                    results = checker.check_batch(batch)
                    processed += len(results)
                    valid += sum(1 for r in results if r.data is not None)
                    _collect(job, results)
                    _progress(token, processed)
            except ValidationError as exc:  # the stored file could not be read after all
                _fail(token, " ".join(exc.messages), from_state=VALIDATING)
                return
            except Exception:
                _fail(token, _("Checking stopped because of an unexpected error."), from_state=VALIDATING)
                raise
        job.status, job.total_rows, job.processed_rows, job.valid_rows = VALIDATED, processed, processed, valid
        _save(job)


class _NothingWritten(Exception):  # noqa: N818 - an outcome, not a bug
    pass


def product_import_run(*, token: str) -> None:
    """Write the valid rows. Without skip_invalid, one row that fails now (a SKU someone saved since the check)
    rolls every row back."""
    job = product_import_get(token)
    if job is None or job.status != IMPORTING:
        return
    actor = User.objects.filter(pk=job.created_by_id).first() if job.created_by_id else None
    with _lock(f"{token}:work", seconds=3600) as acquired:
        if not acquired:
            return
        with translation.override(job.language):
            checker = _checker(job)
            job.errors, job.error_count = [], 0
            processed = valid = imported = 0
            any_failed = False
            try:
                with transaction.atomic():
                    for batch in _rows(job):
                        results = checker.check_batch(batch)
                        good = [r for r in results if r.data is not None]
                        processed += len(results)
                        any_failed = any_failed or len(good) < len(results)
                        if good and (job.skip_invalid or not any_failed):
                            written, lost = _write(good, actor=actor, token=token, skip_invalid=job.skip_invalid)
                            imported += written
                            any_failed = any_failed or bool(lost)
                        valid += sum(1 for r in results if r.data is not None)
                        _collect(job, results)
                        _progress(token, processed)
                    if any_failed and not job.skip_invalid:
                        raise _NothingWritten
            except _NothingWritten:
                job.status, job.imported_rows = FAILED, 0
                job.error = _("Some rows failed, so nothing was written. Fix them, or import only the valid rows.")
            except Exception:
                _fail(
                    token,
                    _("The import stopped because of an unexpected error. Nothing was written."),
                    from_state=IMPORTING,
                )
                raise
            else:
                job.status, job.imported_rows = DONE, imported
        job.processed_rows, job.valid_rows = processed, valid
        _save(job)


def _write(results: list[RowResult], *, actor, token: str, skip_invalid: bool) -> tuple[int, list[RowResult]]:
    """Insert a batch in one go; when a SKU was taken since the check, row by row to find the rows that collide
    (each in a savepoint). Returns the number written and the rows that could not be."""
    source = {"import": token}
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


def product_import_preview(*, job: ProductImport, mapping: dict[str, str]) -> Preview:
    labels = {s.key: str(s.label) for s in import_specs()}
    indexed = [(i, h, labels[mapping[h]]) for i, h in enumerate(job.headers) if h and mapping.get(h) in labels]
    rows, samples = [], {}
    with default_storage.open(job.path, "rb") as binary:
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
