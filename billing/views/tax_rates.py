"""Settings → Tax rates: the VAT rates products and documents use, by country."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing.forms.fields import decimal_input
from billing.forms.tax_rates import TaxRateForm
from billing.models import TaxRate
from billing.selectors.tax_rates import tax_rates_by_country
from billing.services import tax_rates as services
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors

PERM = "accounts.manage_settings"


def _ctx(**extra) -> dict:
    return {"active_nav": "settings", "settings_tab": "tax_rates", **extra}


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def tax_rate_list(request):
    form = TaxRateForm(request.POST or None, prefix="new", initial={"country": "NL", "category": "standard"})
    if request.method == "POST" and form.is_valid():
        try:
            rate = services.tax_rate_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Tax rate “%(name)s” added.") % {"name": rate.name})
            return redirect("billing:tax_rate_list")
    return render(
        request,
        "billing/tax_rates/list.html",
        _ctx(groups=tax_rates_by_country(), form=form),
        status=400 if form.errors else 200,
    )


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def tax_rate_edit(request, pk: int):
    tax_rate = get_for_user(request.user, TaxRate.objects.all(), PERM, pk=pk)
    initial = {
        "name": tax_rate.name,
        "rate": decimal_input(tax_rate.rate),
        "category": tax_rate.category,
        "country": tax_rate.country,
    }
    form = TaxRateForm(request.POST or None, initial=initial)
    if tax_rate.locked_at is not None:
        for field in form.fields.values():
            field.disabled = True
    if request.method == "POST":
        if tax_rate.locked_at is not None:
            form.add_error(None, services.locked_message())
        elif form.is_valid():
            try:
                services.tax_rate_update(tax_rate=tax_rate, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                messages.success(request, _("Tax rate saved."))
                return redirect("billing:tax_rate_list")
    return render(
        request,
        "billing/tax_rates/edit.html",
        _ctx(tax_rate=tax_rate, form=form, locked=tax_rate.locked_at is not None),
        status=400 if form.errors else 200,
    )


@require_perm(PERM)
@require_POST
def tax_rate_archive(request, pk: int):
    tax_rate = get_for_user(request.user, TaxRate.objects.all(), PERM, pk=pk)
    archived = request.POST.get("archived") == "1"
    try:
        services.tax_rate_set_archived(tax_rate=tax_rate, archived=archived, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if archived:
            messages.success(
                request,
                _("“%(name)s” archived: products and documents keep it, new ones cannot choose it.")
                % {"name": tax_rate.name},
            )
        else:
            messages.success(request, _("“%(name)s” can be chosen again.") % {"name": tax_rate.name})
    return redirect("billing:tax_rate_list")
