"""Product CSV import pages: upload with the import history, column mapping with a preview, the check's report and
progress, the result."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from billing.imports import SYNC_ROWS
from billing.imports import jobs as import_jobs
from billing.imports.fields import import_specs
from billing.models import ProductImportJob
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.imports import MAX_ROWS, PREVIEW_ROWS
from commerce_hub.imports.forms import ImportMappingForm, ImportUploadForm
from commerce_hub.imports.mapping import importable_specs
from commerce_hub.imports.views import errors_csv_response
from commerce_hub.money import number_format
from commerce_hub.organization.selectors import organization_profile_cached
from commerce_hub.pagination import keyset_page

PERM = "accounts.manage_products"
ERRORS_SHOWN = 200


HISTORY_SIZE = 20


def _job(request, pk: int) -> ProductImportJob:
    return get_for_user(request.user, import_jobs.product_import_list(), PERM, pk=pk)


def _context(job: ProductImportJob | None = None, **extra) -> dict:
    context = {"active_nav": "products", "title": _("Import products"), **extra}
    if job is not None:
        valid = job.valid_rows
        context |= {
            "job": job,
            "result_text": ngettext("Imported %(count)s product.", "Imported %(count)s products.", job.imported_rows)
            % {"count": number_format(job.imported_rows)},
            "skip_text": ngettext("Import the valid row", "Import the %(count)s valid rows", valid)
            % {"count": number_format(valid)},
        }
    return context


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def import_start(request):
    form = ImportUploadForm(request.POST, request.FILES) if request.method == "POST" else ImportUploadForm()
    if request.method == "POST" and form.is_valid():
        try:
            job = import_jobs.product_import_create(
                upload=form.cleaned_data["file"],
                actor=request.user,
                default_currency=organization_profile_cached().default_currency,
            )
        except ValidationError as exc:
            form.add_error("file", exc.message_dict.get("file", exc.messages))
        else:
            return redirect("billing:product_import_mapping", pk=job.pk)
    history = keyset_page(
        import_jobs.product_import_list(),
        ordering=["-created_at", "-id"],
        cursor=request.GET.get("after"),
        size=HISTORY_SIZE,
    )
    return render(
        request,
        "billing/products/import_start.html",
        _context(
            form=form,
            specs=importable_specs(import_specs()),
            max_rows=MAX_ROWS,
            sync_rows=SYNC_ROWS,
            page=history,
        ),
        status=400 if form.errors else 200,
    )


def _mapping_form(job, data=None) -> ImportMappingForm:
    return ImportMappingForm(data, headers=job.headers, specs=import_specs(), initial_mapping=job.mapping)


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk: int):
    job = _job(request, pk)
    if not job.mappable:
        return redirect("billing:product_import_detail", pk=job.pk)
    form = _mapping_form(job, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            import_jobs.product_import_map(job=job, mapping=form.mapping(), actor=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect("billing:product_import_detail", pk=job.pk)
    preview = import_jobs.product_import_preview(job=job, mapping=form.mapping())
    return render(
        request,
        "billing/products/import_mapping.html",
        _context(
            job,
            form=form,
            preview=preview,
            mapping_rows=[(form[name], preview.samples.get(header, "")) for name, header in form.columns.items()],
            preview_rows=PREVIEW_ROWS,
        ),
        status=400 if form.errors else 200,
    )


@require_perm(PERM)
@require_GET
def import_preview(request, pk: int):
    """The preview table for the mapping chosen so far (htmx, on every change of a select)."""
    job = _job(request, pk)
    preview = import_jobs.product_import_preview(job=job, mapping=_mapping_form(job, request.GET).mapping())
    return render(request, "billing/products/_import_preview.html", {"job": job, "preview": preview})


@require_perm(PERM)
@require_GET
def import_detail(request, pk: int):
    job = _job(request, pk)
    if job.status == import_jobs.UPLOADED:
        return redirect("billing:product_import_mapping", pk=job.pk)
    return render(
        request,
        "billing/products/import_detail.html",
        _context(
            job,
            errors=list(import_jobs.product_import_errors(job=job)[:ERRORS_SHOWN]),
            errors_hidden=max(job.error_count - ERRORS_SHOWN, 0),
            processed=import_jobs.product_import_processed(job=job),
        ),
    )


@require_perm(PERM)
@require_GET
def import_progress(request, pk: int):
    """Polled every second while an import runs; once it stops, the whole page reloads to show the report."""
    job = _job(request, pk)
    if not job.running:
        if request.htmx:
            return HttpResponseClientRefresh()
        return redirect("billing:product_import_detail", pk=job.pk)
    processed = import_jobs.product_import_processed(job=job)
    return render(request, "billing/products/_import_progress.html", {"job": job, "processed": processed})


@require_perm(PERM)
@require_POST
def import_run(request, pk: int):
    job = _job(request, pk)
    try:
        import_jobs.product_import_start(
            job=job, skip_invalid=request.POST.get("skip_invalid") == "1", actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("billing:product_import_detail", pk=job.pk)


@require_perm(PERM)
@require_GET
def import_errors_csv(request, pk: int):
    job = _job(request, pk)
    errors = import_jobs.product_import_errors(job=job).iterator()
    return errors_csv_response(errors, filename="product-import-errors.csv")
