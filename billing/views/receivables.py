"""Customer credit and payment corrections: reversing a payment entered by mistake, applying a customer's credit
to an invoice, and granting credit by hand from a company or contact page. Every write is a service of
billing/services (which books it on the receivables ledger)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from billing.forms.fields import AmountField
from billing.models import InvoicePayment
from billing.selectors.receivables import account_of_record
from billing.services import invoice_payments as payment_services
from billing.services.receivables import customer_credit_add
from billing.views.invoices import PAYMENTS, _errors_to_messages, _invoice
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.idempotency.web import idempotent
from commerce_hub.money import money_format
from crm.models import Company, Contact


class ReverseForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2}))


class CreditForm(forms.Form):
    amount = AmountField(label=gettext_lazy("Amount"))
    currency = forms.ChoiceField(label=gettext_lazy("Currency"), choices=[(c, c) for c in settings.CURRENCIES])
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)


@require_perm(PAYMENTS)
@require_http_methods(["GET", "POST"])
def payment_reverse(request, pk: int):
    payment = get_for_user(request.user, InvoicePayment.objects.select_related("invoice"), PAYMENTS, pk=pk)
    invoice = _invoice(request, payment.invoice_id, PAYMENTS)
    form = ReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with idempotent(request, scope="payment.reverse", target=payment, params=form.cleaned_data) as claim:
                if claim.replay:
                    return claim.replay
                reason = form.cleaned_data["reason"]
                payment_services.payment_reverse(payment=payment, reason=reason, actor=request.user)
                messages.success(request, _("Payment reversed; the invoice owes it again."))
                return claim.done(redirect("billing:invoice_detail", invoice.pk))
        except ValidationError as exc:
            form_add_errors(form, exc)
    return render(
        request,
        "billing/receivables/payment_reverse.html",
        {
            "invoice": invoice,
            "payment": payment,
            "form": form,
            "title": _("Reverse this payment?"),
            "active_nav": "invoices",
        },
        status=400 if form.errors else 200,
    )


@require_perm(PAYMENTS)
@require_POST
def invoice_apply_credit(request, pk: int):
    invoice = _invoice(request, pk, PAYMENTS)
    back = reverse("billing:invoice_detail", args=[invoice.pk])
    try:
        with idempotent(request, scope="invoice.apply_credit", target=invoice, retry_url=back) as claim:
            if claim.replay:
                return claim.replay
            amount = payment_services.invoice_apply_credit(invoice=invoice, actor=request.user)
            messages.success(
                request, _("%(amount)s of credit applied.") % {"amount": money_format(amount, invoice.currency)}
            )
            return claim.done(redirect(back))
    except ValidationError as exc:
        _errors_to_messages(request, exc)
    return redirect(back)


_RECORDS = {"company": Company, "contact": Contact}


def _record_and_account(request, kind: str, pk: int):
    model = _RECORDS.get(kind)
    if model is None:
        raise Http404
    record = get_for_user(request.user, model.objects.all(), "accounts.view_crm", pk=pk)
    return record, account_of_record(record)


@require_perm(PAYMENTS)
@require_http_methods(["GET", "POST"])
def customer_credit_new(request, kind: str, pk: int):
    record, account = _record_and_account(request, kind, pk)
    form = CreditForm(request.POST or None, initial={"currency": getattr(record, "currency", "") or "EUR"})
    back = reverse(f"crm:{kind}_detail", args=[record.pk])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with idempotent(request, scope="customer_credit.add", target=record, params=data) as claim:
                if claim.replay:
                    return claim.replay
                customer_credit_add(
                    account=account,
                    currency=data["currency"],
                    amount=data["amount"],
                    reason=data["reason"],
                    actor=request.user,
                )
                messages.success(request, _("Credit added."))
                return claim.done(redirect(back))
        except ValidationError as exc:
            form_add_errors(form, exc)
    return render(
        request,
        "billing/receivables/credit_new.html",
        {
            "record": record,
            "form": form,
            "back": back,
            "title": _("Give %(name)s credit") % {"name": str(record)},
            "active_nav": "companies" if kind == "company" else "contacts",
        },
        status=400 if form.errors else 200,
    )
