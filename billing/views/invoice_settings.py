"""Settings → Invoices: one page of small forms, each saved on its own (the hidden `section` says which)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from djmoney.money import Money

from billing.documents import invoice_settings_get
from billing.forms.invoice_settings import (
    DefaultsForm,
    HostedLinkForm,
    LateFeeForm,
    NumberingForm,
    ReminderSettingsForm,
    ReminderStepForm,
    step_when,
)
from billing.models import NumberSeries, ReminderStep
from billing.services import invoice_settings as services
from billing.services.numbering import number_series_get
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.organization.selectors import organization_profile_get

PERM = "accounts.manage_settings"


def _ctx(**extra) -> dict:
    return {"active_nav": "settings", "settings_tab": "invoices", **extra}


def _page_url(anchor: str) -> str:
    return f"{reverse('billing:invoice_settings')}#{anchor}"


def _seller_gaps(profile) -> list[str]:
    gaps = []
    if not profile.legal_name:
        gaps.append(_("legal name"))
    if not (profile.address_line1 and profile.postal_code and profile.city):
        gaps.append(_("address"))
    if not profile.vat_number:
        gaps.append(_("VAT number"))
    return gaps


def _forms(settings, bound: str | None = None, data=None) -> dict:
    """Every form of the page; the one named `bound` reads the posted data, the others show what is saved."""
    series = {key: number_series_get(key) for key in (NumberSeries.INVOICE, NumberSeries.CREDIT_NOTE)}

    def make(name, cls, initial=None):
        return cls(data if bound == name else None, prefix=name, initial=initial)

    return {
        "numbering": make("numbering", NumberingForm, NumberingForm.initial_for(series)),
        "defaults": make("defaults", DefaultsForm, DefaultsForm.initial_for(settings)),
        "reminders": make(
            "reminders",
            ReminderSettingsForm,
            {"reminders_enabled": settings.reminders_enabled, "skip_weekends": settings.skip_weekends},
        ),
        "step": make("step", ReminderStepForm, {"kind": ReminderStep.Kind.REMINDER}),
        "late_fee": make("late_fee", LateFeeForm, LateFeeForm.initial_for(settings)),
        "links": make("links", HostedLinkForm, {"expiry_days": settings.hosted_link_expiry_days}),
    }


def _render_page(request, settings, forms: dict, *, status: int = 200):
    profile = organization_profile_get()
    steps = [(step, step_when(step.offset_days)) for step in ReminderStep.objects.order_by("offset_days")]
    return render(
        request,
        "billing/invoice_settings/page.html",
        _ctx(
            settings=settings,
            forms=forms,
            next_numbers=services.next_numbers(),
            profile=profile,
            seller_gaps=_seller_gaps(profile),
            steps=steps,
        ),
        status=status,
    )


def _save_numbering(request, form):
    data = form.cleaned_data
    try:
        changes = services.invoice_numbering_update(
            actor=request.user,
            invoice_prefix=data["invoice_prefix"],
            invoice_start=data["invoice_start"],
            credit_note_prefix=data["credit_note_prefix"],
            credit_note_start=data["credit_note_start"],
            confirmed=request.POST.get("confirmed") == "1",
        )
    except services.PrefixChangeUnconfirmed as unconfirmed:
        return render(
            request,
            "billing/invoice_settings/confirm_prefix.html",
            _ctx(form=form, changes=unconfirmed.changes),
        )
    except ValidationError as exc:
        form_add_errors(form, exc)
        return None
    if changes:
        messages.success(request, _("Numbering saved. The new prefix applies to documents numbered from now on."))
    else:
        messages.success(request, _("Numbering saved."))
    return redirect(_page_url("numbering"))


def _save_defaults(request, form):
    try:
        services.invoice_defaults_update(actor=request.user, **form.service_values())
    except ValidationError as exc:
        form_add_errors(form, exc, field_map=form.service_field_map())
        return None
    messages.success(request, _("Invoice defaults saved."))
    return redirect(_page_url("defaults"))


def _save_reminders(request, form):
    services.reminder_settings_update(actor=request.user, **form.cleaned_data)
    messages.success(request, _("Reminder settings saved."))
    return redirect(_page_url("reminders"))


def _save_step(request, form):
    try:
        step = services.reminder_step_create(actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        form_add_errors(form, exc)
        return None
    messages.success(
        request,
        _("Reminder added: %(when)s — %(kind)s.")
        % {"when": step_when(step.offset_days), "kind": step.get_kind_display()},
    )
    return redirect(_page_url("reminders"))


def _save_late_fee(request, form):
    try:
        values = dict(form.cleaned_data)
        amount = values.pop("late_fee_amount")
        currency = values.pop("late_fee_currency") or invoice_settings_get().late_fee_currency
        late_fee = None if amount is None else Money(amount, currency)
        services.late_fee_settings_update(actor=request.user, late_fee=late_fee, **values)
    except ValidationError as exc:
        form_add_errors(form, exc)
        return None
    messages.success(request, _("Late fee settings saved."))
    return redirect(_page_url("late-fee"))


def _save_links(request, form):
    try:
        services.hosted_link_settings_update(actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        form_add_errors(form, exc)
        return None
    messages.success(request, _("Link settings saved."))
    return redirect(_page_url("links"))


SAVERS = {
    "numbering": _save_numbering,
    "defaults": _save_defaults,
    "reminders": _save_reminders,
    "step": _save_step,
    "late_fee": _save_late_fee,
    "links": _save_links,
}


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def invoice_settings(request):
    settings = invoice_settings_get()
    section = request.POST.get("section") if request.method == "POST" else None
    if request.method == "POST" and section not in SAVERS:
        messages.error(request, _("That form is out of date; please try again."))
        return redirect("billing:invoice_settings")
    forms = _forms(settings, bound=section, data=request.POST)
    if section is not None:
        form = forms[section]
        if form.is_valid():
            response = SAVERS[section](request, form)
            if response is not None:
                return response
    status = 400 if section is not None and forms[section].errors else 200
    return _render_page(request, settings, forms, status=status)


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def invoice_settings_step_delete(request, pk: int):
    step = get_for_user(request.user, ReminderStep.objects.all(), PERM, pk=pk)
    when = step_when(step.offset_days)
    if request.method == "POST":
        services.reminder_step_delete(actor=request.user, step=step)
        messages.success(request, _("Reminder removed: %(when)s.") % {"when": when})
        return redirect(_page_url("reminders"))
    return render(
        request,
        "billing/invoice_settings/step_delete.html",
        _ctx(step=step, when=when),
    )
