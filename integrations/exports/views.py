"""The Exports page (a period's CSV files and e-invoices), e-invoice downloads from an invoice or credit note, and
Settings → E-invoicing. Views parse, check permissions and hand over to the exports; every download is no-store."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from billing.models import CreditNote, Invoice, InvoiceStatus
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.accounts.services.audit import audit_record
from integrations.exports import csv_export, ubl_bulk
from integrations.exports.forms import ExportSettingsForm, PeriodForm
from integrations.exports.services import export_settings_update
from integrations.exports.ubl import UblError, credit_note_ubl, export_settings_get, invoice_ubl, ubl_file_name

VIEW_INVOICES = "accounts.view_invoices"
VIEW_PAYMENTS = "accounts.view_payments"
SETTINGS = "accounts.manage_settings"
# What each export needs: payments are their own permission.
NEEDS = {
    "invoices": (VIEW_INVOICES,),
    "credit_notes": (VIEW_INVOICES,),
    "payments": (VIEW_PAYMENTS,),
    "all": (VIEW_INVOICES, VIEW_PAYMENTS),
    "ubl": (VIEW_INVOICES,),
}


def _any_perm(*perms: str):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not any(request.user.has_perm(perm) for perm in perms):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.required_perms = perms
        return wrapped

    return decorator


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


def _attachment(response, name: str):
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _no_store(response)


@_any_perm(VIEW_INVOICES, VIEW_PAYMENTS)
@require_GET
def export_index(request):
    """The form; submitted (GET, so a period's export is a link), the download itself."""
    user = request.user
    choices = [(key, label) for key, label in PeriodForm.WHAT if user.has_perms(NEEDS[key])]
    if "what" not in request.GET:
        form = PeriodForm(initial=PeriodForm.initial_period())
        form.fields["what"].choices = choices
        return render(request, "integrations/exports/index.html", {"form": form, "active_nav": "exports"})
    form = PeriodForm(request.GET)
    form.fields["what"].choices = choices
    if not form.is_valid():
        return render(request, "integrations/exports/index.html", {"form": form, "active_nav": "exports"}, status=400)
    what, start, end = form.cleaned_data["what"], form.cleaned_data["start"], form.cleaned_data["end"]
    audit_record(
        actor=user,
        action="export.downloaded",
        object_type="integrations.export",
        after={"what": what, "start": start.isoformat(), "end": end.isoformat()},
    )
    if what in csv_export.EXPORTS:
        response = StreamingHttpResponse(
            csv_export.csv_lines(what, start=start, end=end), content_type="text/csv; charset=utf-8"
        )
        return _attachment(response, csv_export.file_name(what, start=start, end=end))
    if what == "all":
        response = StreamingHttpResponse(csv_export.csv_zip(start=start, end=end), content_type="application/zip")
        return _attachment(response, csv_export.file_name("exports", start=start, end=end, suffix="zip"))
    response = StreamingHttpResponse(ubl_bulk.ubl_zip(start=start, end=end), content_type="application/zip")
    return _attachment(response, csv_export.file_name("e-invoices", start=start, end=end, suffix="zip"))


def _xml_response(data: bytes, name: str) -> HttpResponse:
    return _attachment(HttpResponse(data, content_type="application/xml"), name)


def _refused(request, exc: UblError, back: str):
    messages.error(request, _("No e-invoice can be made yet:"))
    for message in exc.messages:
        messages.error(request, message)
    return redirect(back)


@require_perm(VIEW_INVOICES)
@require_GET
def invoice_ubl_download(request, pk: int):
    invoice = get_for_user(request.user, Invoice.objects.exclude(status=InvoiceStatus.DRAFT), VIEW_INVOICES, pk=pk)
    try:
        data = invoice_ubl(invoice)
    except UblError as exc:
        return _refused(request, exc, reverse("billing:invoice_detail", args=[invoice.pk]))
    return _xml_response(data, ubl_file_name(invoice.number, "invoice"))


@require_perm(VIEW_INVOICES)
@require_GET
def credit_note_ubl_download(request, pk: int):
    note = get_for_user(request.user, CreditNote.objects.all(), VIEW_INVOICES, pk=pk)
    try:
        data = credit_note_ubl(note)
    except UblError as exc:
        return _refused(request, exc, reverse("billing:invoice_detail", args=[note.invoice_id]))
    return _xml_response(data, ubl_file_name(note.number, "credit-note"))


@require_perm(SETTINGS)
@require_http_methods(["GET", "POST"])
def export_settings(request):
    settings = export_settings_get()
    form = ExportSettingsForm(request.POST or None, instance=settings)
    if request.method == "POST":
        if form.is_valid():
            export_settings_update(actor=request.user, **form.cleaned_data)
            messages.success(request, _("E-invoicing settings saved."))
            return redirect("exports:settings")
        status = 400
    else:
        status = 200
    context = {"form": form, "active_nav": "settings", "settings_tab": "exports"}
    return render(request, "integrations/exports/settings.html", context, status=status)
