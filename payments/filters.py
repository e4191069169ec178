"""The payments index's filters (django-filter): status, method, currency, date and amount ranges, the customer, and
the hidden record filters behind the "View all" links of CRM records and invoices."""

from __future__ import annotations

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from commerce_hub.text import MAX_ID, clean_search
from crm.models import Contact
from payments.models import MethodKind, Payment, PaymentStatus


class _MoneyRangeField(django_filters.fields.RangeField):
    """Amounts that fit the amount column: a larger one is a clear error next to the field, not a database error."""

    def __init__(self, *args, **kwargs):
        bound = {"max_digits": MONEY_MAX_DIGITS, "decimal_places": MONEY_DECIMAL_PLACES, "required": False}
        super().__init__((forms.DecimalField(**bound), forms.DecimalField(**bound)), *args, **kwargs)


class _MoneyRangeFilter(django_filters.RangeFilter):
    field_class = _MoneyRangeField


class _IdFilter(django_filters.Filter):
    field_class = forms.IntegerField


def _id_filter(label, field_name: str) -> _IdFilter:
    return _IdFilter(label=label, field_name=field_name, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)


class PaymentFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), field_name="status", choices=PaymentStatus.choices, distinct=False
    )
    method = django_filters.MultipleChoiceFilter(
        label=_("Method"), field_name="method", choices=MethodKind.choices, distinct=False
    )
    currency = django_filters.MultipleChoiceFilter(
        label=_("Currency"), field_name="currency", choices=[(c, c) for c in settings.CURRENCIES], distinct=False
    )
    # Whole days in the tenant's timezone (the middleware activates it): from the start of the first to the end of
    # the last.
    date = django_filters.DateFromToRangeFilter(
        label=_("Date"), field_name="created_at", widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    )
    amount = _MoneyRangeFilter(label=_("Amount"), field_name="amount")
    customer = django_filters.CharFilter(label=_("Customer"), method="filter_customer")
    # The "View all" links of a company, contact, deal or invoice.
    company_id = _id_filter(_("Company"), "company_id")
    contact_id = _id_filter(_("Contact"), "contact_id")
    deal_id = _id_filter(_("Deal"), "deal_id")
    invoice_id = _id_filter(_("Invoice"), "invoice_id")

    class Meta:
        model = Payment
        fields = []

    def filter_customer(self, queryset, name, value):
        text = clean_search(value)
        if not text:
            return queryset
        named = Q(first_name__icontains=text) | Q(last_name__icontains=text) | Q(email__icontains=text)
        # EXISTS on the contact rather than a join on names: "Kari Nordmann" typed whole matches no single column.
        full = Q()
        if " " in text:
            first, _sep, last = text.partition(" ")
            full = Q(first_name__icontains=first.strip(), last_name__icontains=last.strip())
        contact = Exists(Contact.objects.filter(named | full, pk=OuterRef("contact_id")))
        return queryset.filter(
            Q(company__name__icontains=text) | Q(buyer_name__icontains=text) | Q(buyer_email__icontains=text) | contact
        )


RECORD_FILTERS = ("company_id", "contact_id", "deal_id", "invoice_id")
