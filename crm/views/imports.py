"""CSV import pages: upload, column mapping with a preview, validation report and progress, result, history."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from commerce_hub.access import get_for_user, require_perm
from commerce_hub.imports.forms import ImportMappingForm, ImportUploadForm
from commerce_hub.imports.mapping import importable_specs
from commerce_hub.imports.views import errors_csv_response
from commerce_hub.money import number_format
from commerce_hub.pagination import keyset_page
from crm.fields import specs_for
from crm.imports import MAX_ROWS, PREVIEW_ROWS
from crm.imports import selectors as import_selectors
from crm.models import ImportJob, ObjectType
from crm.services import imports as import_services

PERM = "accounts.import_crm"
NAV = {"company": "companies", "contact": "contacts", "deal": "deals"}
INDEX_URLS = {"company": "crm:company_list", "contact": "crm:contact_list", "deal": "crm:deal_list"}


def _job(request, pk: int) -> ImportJob:
    return get_for_user(request.user, ImportJob.objects.select_related("created_by"), PERM, pk=pk)


def _result_texts(job: ImportJob) -> dict:
    n, valid = job.imported_rows, job.valid_rows
    imported = {
        "company": ngettext("Imported %(count)s company.", "Imported %(count)s companies.", n),
        "contact": ngettext("Imported %(count)s contact.", "Imported %(count)s contacts.", n),
        "deal": ngettext("Imported %(count)s deal.", "Imported %(count)s deals.", n),
    }[job.object_type]
    link = {"company": _("Show companies"), "contact": _("Show contacts"), "deal": _("Show deals")}[job.object_type]
    return {
        "result_text": imported % {"count": number_format(n)},
        "index_link_text": link,
        "skip_text": ngettext("Import the valid row", "Import the %(count)s valid rows", valid)
        % {"count": number_format(valid)},
    }


def _titles(object_type: str) -> dict:
    titles = {
        "company": (_("Import companies"), _("companies")),
        "contact": (_("Import contacts"), _("contacts")),
        "deal": (_("Import deals"), _("deals")),
    }
    title, plural = titles[object_type]
    return {"title": title, "plural": plural}


@require_perm(PERM)
@require_GET
def import_list(request):
    page = keyset_page(
        import_selectors.import_job_list(), ordering=["-created_at", "-id"], cursor=request.GET.get("after"), size=50
    )
    return render(request, "crm/imports/list.html", {"page": page, "active_nav": "imports"})


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def import_start(request, object_type: str):
    if object_type not in ObjectType.values:
        raise Http404
    form = ImportUploadForm(request.POST, request.FILES) if request.method == "POST" else ImportUploadForm()
    if request.method == "POST" and form.is_valid():
        try:
            job = import_services.import_job_create(
                object_type=object_type, upload=form.cleaned_data["file"], actor=request.user
            )
        except ValidationError as exc:
            form.add_error(
                "file", exc.message_dict.get("file", exc.messages) if hasattr(exc, "error_dict") else exc.messages
            )
        else:
            return redirect("crm:import_mapping", job.pk)
    specs = importable_specs(specs_for(object_type))
    return render(
        request,
        "crm/imports/start.html",
        {
            "form": form,
            "object_type": object_type,
            "specs": specs,
            "max_rows": MAX_ROWS,
            "index_url": INDEX_URLS[object_type],
            "active_nav": NAV[object_type],
            **_titles(object_type),
        },
        status=400 if form.errors else 200,
    )


def _mapping_form(request, job: ImportJob, specs, data=None) -> ImportMappingForm:
    return ImportMappingForm(data, headers=job.headers, specs=specs, initial_mapping=job.mapping)


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def import_mapping(request, pk: int):
    job = _job(request, pk)
    if job.status not in import_services.MAPPABLE:
        return redirect("crm:import_detail", job.pk)
    specs = specs_for(job.object_type)
    form = _mapping_form(request, job, specs, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            import_services.import_job_map(job=job, mapping=form.mapping(), actor=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            return redirect("crm:import_detail", job.pk)
    preview = import_selectors.import_preview(job=job, specs=specs, mapping=form.mapping())
    return render(
        request,
        "crm/imports/mapping.html",
        {
            "job": job,
            "form": form,
            "preview": preview,
            "mapping_rows": [(form[name], preview.samples.get(header, "")) for name, header in form.columns.items()],
            "preview_rows": PREVIEW_ROWS,
            "active_nav": NAV[job.object_type],
            **_titles(job.object_type),
        },
        status=400 if form.errors else 200,
    )


@require_perm(PERM)
@require_GET
def import_preview(request, pk: int):
    """The preview table for the mapping chosen so far (htmx, on every change of a select)."""
    job = _job(request, pk)
    specs = specs_for(job.object_type)
    form = _mapping_form(request, job, specs, request.GET)
    preview = import_selectors.import_preview(job=job, specs=specs, mapping=form.mapping())
    return render(request, "crm/imports/_preview.html", {"job": job, "preview": preview})


@require_perm(PERM)
@require_GET
def import_detail(request, pk: int):
    job = _job(request, pk)
    if job.status == ImportJob.Status.UPLOADED:
        return redirect("crm:import_mapping", job.pk)
    errors = keyset_page(
        import_selectors.import_job_errors(job=job),
        ordering=["row_number", "id"],
        cursor=request.GET.get("after"),
        size=200,
    )
    return render(
        request,
        "crm/imports/detail.html",
        {
            "job": job,
            "errors": errors,
            "invalid_rows": max(job.total_rows - job.valid_rows, 0),
            "processed": import_selectors.import_job_processed(job=job),
            "running": job.status in import_selectors.RUNNING,
            "mappable": job.status in import_services.MAPPABLE,
            "index_url": INDEX_URLS[job.object_type],
            "active_nav": NAV[job.object_type],
            **_titles(job.object_type),
            **_result_texts(job),
        },
    )


@require_perm(PERM)
@require_GET
def import_progress(request, pk: int):
    """Polled every second while a job runs; once it stops, the whole page reloads to show the report."""
    job = _job(request, pk)
    if job.status not in import_selectors.RUNNING:
        if request.htmx:
            return HttpResponseClientRefresh()
        return redirect("crm:import_detail", job.pk)
    return render(
        request,
        "crm/imports/_progress.html",
        {"job": job, "processed": import_selectors.import_job_processed(job=job)},
    )


@require_perm(PERM)
@require_POST
def import_run(request, pk: int):
    job = _job(request, pk)
    try:
        import_services.import_job_start(
            job=job, skip_invalid=request.POST.get("skip_invalid") == "1", actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("crm:import_detail", job.pk)


@require_perm(PERM)
@require_GET
def import_errors_csv(request, pk: int):
    job = _job(request, pk)
    errors = import_selectors.import_job_errors(job=job).values_list("row_number", "column", "value", "message")
    return errors_csv_response(errors.iterator(chunk_size=2000), filename=f"import-{job.pk}-errors.csv")
