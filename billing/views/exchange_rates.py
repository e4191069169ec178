"""Settings → Exchange rates: admins enter the rates that convert amounts for reports in the company currency."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from billing.models import ExchangeRate
from billing.selectors.exchange_rates import exchange_rate_list, rate_text
from billing.services.exchange_rates import exchange_rate_create, exchange_rate_delete, exchange_rate_update
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.numbers import parse_decimal_localized
from commerce_hub.organization.models import CURRENCY_CHOICES
from commerce_hub.organization.selectors import organization_profile_cached

PERM = "accounts.manage_settings"
_L = gettext_lazy


class ExchangeRateForm(forms.Form):
    base = forms.ChoiceField(label=_L("From"), choices=CURRENCY_CHOICES)
    quote = forms.ChoiceField(label=_L("To"), choices=CURRENCY_CHOICES)
    rate = forms.CharField(
        label=_L("Rate"),
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        help_text=_L("How many units of the second currency one unit of the first buys."),
    )
    valid_from = forms.DateField(
        label=_L("Valid from"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def clean_rate(self):
        try:
            return parse_decimal_localized(self.cleaned_data["rate"])
        except ValidationError as exc:
            raise forms.ValidationError(exc.messages) from exc


def _ctx(**extra) -> dict:
    return {"active_nav": "settings", "settings_tab": "exchange_rates", **extra}


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def exchange_rate_index(request):
    company_currency = organization_profile_cached().default_currency or "EUR"
    initial = {"base": "NOK" if company_currency != "NOK" else "EUR", "quote": company_currency}
    form = ExchangeRateForm(request.POST or None, initial=initial | {"valid_from": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            row = exchange_rate_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Rate saved: %(rate)s.") % {"rate": rate_text(row)})
            return redirect("billing:exchange_rate_index")
    currency = request.GET.get("currency", "").upper()
    currency = currency if currency in dict(CURRENCY_CHOICES) else ""
    page = exchange_rate_list(cursor=request.GET.get("after"), currency=currency)
    for row in page.rows:
        row.text = rate_text(row)
    return render(
        request,
        "billing/exchange_rates/index.html",
        _ctx(
            form=form,
            page=page,
            currency=currency,
            currencies=[code for code, _label in CURRENCY_CHOICES],
            company_currency=company_currency,
            query=f"currency={currency}" if currency else "",
        ),
        status=400 if form.errors else 200,
    )


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def exchange_rate_edit(request, pk: int):
    row = get_for_user(request.user, ExchangeRate.objects.all(), PERM, pk=pk)
    initial = {"base": row.base, "quote": row.quote, "rate": f"{row.rate.normalize():f}", "valid_from": row.valid_from}
    form = ExchangeRateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            exchange_rate_update(exchange_rate=row, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Rate saved."))
            return redirect("billing:exchange_rate_index")
    return render(
        request, "billing/exchange_rates/edit.html", _ctx(form=form, row=row), status=400 if form.errors else 200
    )


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def exchange_rate_delete_view(request, pk: int):
    row = get_for_user(request.user, ExchangeRate.objects.all(), PERM, pk=pk)
    if request.method == "POST":
        exchange_rate_delete(exchange_rate=row, actor=request.user)
        messages.success(request, _("Rate deleted: %(rate)s.") % {"rate": rate_text(row)})
        return redirect("billing:exchange_rate_index")
    return render(request, "billing/exchange_rates/delete.html", _ctx(row=row, text=rate_text(row)))
