"""A subscription created by hand from a contact's, company's or deal's page: who it is for comes from the record
(its company, or one of its contacts), the rest from the form, its items from the product library."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.forms.subscriptions import ItemFormSet, ManualSubscriptionForm
from billing.services.subscription_changes import LineAdd
from billing.services.subscriptions_manual import ManualSubscription, subscription_create_manual
from billing.views.subscriptions import MANAGE
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.idempotency.web import idempotent
from commerce_hub.organization.selectors import organization_profile_get
from crm.models import Company, Contact, Deal

RECORDS = {"company": Company, "contact": Contact, "deal": Deal}

# fn(*, company, contact) -> [(public id, label)]: the customer's saved payment methods. Billing cannot see them;
# the payments app registers this. Without it, new subscriptions send invoices.
_payment_methods: Callable[..., list[tuple[str, str]]] | None = None


def subscription_payment_methods_register(fn: Callable[..., list[tuple[str, str]]] | None) -> None:
    global _payment_methods
    _payment_methods = fn


def _saved_methods(company, contact) -> list[tuple[str, str]]:
    if _payment_methods is None:
        return []
    return list(_payment_methods(company=company, contact=contact) or [])


def _parties(object_type: str, record) -> tuple[list[tuple[str, str]], Deal | None, str]:
    """The customers the form offers for the record, the deal, and the currency to start from."""
    default_currency = organization_profile_get().default_currency or "EUR"
    contacts: list[Contact] = []
    company = None
    deal = None
    if object_type == "company":
        company = record
        contacts = list(record.contacts.order_by("last_name", "first_name", "id")[:50])
    elif object_type == "contact":
        contacts = [record]
        company = record.company
    else:
        deal = record
        company = record.company
        contacts = list(record.contacts.order_by("last_name", "first_name", "id")[:50])
    choices = []
    if company is not None:
        choices.append((f"company:{company.pk}", company.name))
    for contact in contacts:
        label = contact.full_name or contact.email
        if contact.company_id and company is not None and contact.company_id == company.pk:
            label = _("%(contact)s at %(company)s") % {"contact": label, "company": company.name}
        choices.append((f"contact:{contact.pk}", label))
    currency = default_currency
    if deal is not None and deal.amount_currency:
        currency = str(deal.amount_currency)
    elif company is not None and company.currency:
        currency = company.currency
    return choices, deal, currency


def _customer(value: str) -> tuple[Company | None, Contact | None]:
    kind, _sep, pk = value.partition(":")
    if kind == "company":
        return Company.objects.filter(pk=pk).first(), None
    contact = Contact.objects.select_related("company").filter(pk=pk).first()
    return (contact.company if contact else None), contact


def _record_url(object_type: str, record) -> str:
    from django.urls import reverse

    return reverse(f"crm:{object_type}_detail", args=[record.pk])


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def subscription_new(request, object_type: str, record_pk: int):
    model = RECORDS.get(object_type)
    if model is None:
        raise Http404
    record = get_for_user(request.user, model.objects.all(), "accounts.view_crm", pk=record_pk)
    customers, deal, currency = _parties(object_type, record)
    if not customers:
        messages.error(request, _("Add a company or a contact to this deal first: a subscription bills a customer."))
        return redirect(_record_url(object_type, record))
    first_company, first_contact = _customer(customers[0][0])
    today = timezone.localdate()
    initial = {
        "name": (deal.name if deal else (record.name if object_type == "company" else record.full_name))[:200],
        "currency": currency,
        "start_date": today,
        "customer": customers[0][0],
        "payment_terms_days": 14,
        "trial_days": 0,
    }
    data = request.POST if request.method == "POST" else None
    form = ManualSubscriptionForm(
        data,
        initial=initial,
        customers=customers,
        payment_methods=_saved_methods(first_company, first_contact),
    )
    formset = ItemFormSet(data, prefix="item")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        cleaned = form.cleaned_data
        company, contact = _customer(cleaned["customer"])
        items = [
            LineAdd(product_id=row.cleaned_data["product"].pk, quantity=row.cleaned_data["quantity"])
            for row in formset
            if row.cleaned_data.get("product") is not None
        ]
        values = ManualSubscription(
            name=cleaned["name"],
            currency=cleaned["currency"],
            frequency=cleaned["frequency"],
            start_date=cleaned["start_date"],
            items=items,
            company=company,
            contact=contact,
            deal=deal,
            term_periods=cleaned["term_periods"],
            collection_method=cleaned["collection_method"],
            payment_method_ref=cleaned.get("payment_method_ref") or "",
            payment_terms_days=cleaned["payment_terms_days"],
            trial_days=cleaned["trial_days"] or 0,
            coupon=cleaned["coupon"],
        )
        params = {**cleaned, "items": [(i.product_id, str(i.quantity)) for i in items], "record": record_pk}
        try:
            with idempotent(request, scope="subscription.create", params=params) as claim:
                if claim.replay:
                    return claim.replay
                subscription = subscription_create_manual(values=values, actor=request.user, today=today)
                messages.success(request, _("Subscription “%(name)s” created.") % {"name": subscription.name})
                return claim.done(redirect("billing:subscription_detail", subscription.pk))
        except ValidationError as exc:
            form_add_errors(form, exc)
    status = 400 if form.errors or any(formset.errors) else 200
    return render(
        request,
        "billing/subscriptions/new.html",
        {
            "form": form,
            "formset": formset,
            "record": record,
            "object_type": object_type,
            "record_url": _record_url(object_type, record),
            "active_nav": "subscriptions",
        },
        status=status,
    )
