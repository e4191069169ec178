"""Forms of the subscription pages. They parse what the user typed; the services (billing.services.subscription_changes
and subscriptions_manual) decide what is allowed, and their errors land next to these fields."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _L

from billing.forms.fields import LocalizedDecimalField
from billing.models import CollectionMethod, Coupon, Product
from billing.models.choices import Frequency

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
RECURRING = [c for c in Frequency.choices if c[0] != Frequency.ONE_TIME]
ITEM_ROWS = 5


class PauseForm(forms.Form):
    resume_on = forms.DateField(
        label=_L("Resume on"),
        required=False,
        widget=_DATE,
        help_text=_L("Leave empty to pause until someone resumes it."),
    )


class CancelForm(forms.Form):
    WHEN = [("now", _L("Now")), ("period_end", _L("At the end of the current period"))]
    when = forms.ChoiceField(label=_L("When"), choices=WHEN, widget=forms.RadioSelect, initial="period_end")
    credit = forms.BooleanField(
        label=_L("Credit the unused days of the current period to the customer"), required=False
    )
    reason = forms.CharField(label=_L("Reason"), required=False, max_length=300)


class CouponApplyForm(forms.Form):
    coupon = forms.ModelChoiceField(label=_L("Coupon"), queryset=Coupon.objects.none(), empty_label=None)

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        from django.db.models import Q

        self.fields["coupon"].queryset = Coupon.objects.filter(
            Q(amount_off__isnull=True) | Q(currency=currency), active=True
        ).order_by("name", "id")


class SimulateForm(forms.Form):
    to = forms.DateField(label=_L("Move the clock to"), widget=_DATE)


def product_choices(frequency: str | None = None):
    products = Product.objects.filter(is_archived=False).exclude(billing_frequency=Frequency.ONE_TIME)
    if frequency:
        products = products.filter(billing_frequency=frequency)
    return products.order_by("name", "id")


class ProductChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({Frequency(obj.billing_frequency).label.lower()})"


class ItemForm(forms.Form):
    """One recurring item from the product library."""

    product = ProductChoiceField(label=_L("Product"), queryset=Product.objects.none(), required=False)
    quantity = LocalizedDecimalField(label=_L("Quantity"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One-time products are listed too, so choosing one is refused with a clear message instead of hidden.
        self.fields["product"].queryset = Product.objects.filter(is_archived=False).order_by("name", "id")

    def clean(self):
        data = super().clean()
        if data.get("product") is not None and data.get("quantity") is None:
            self.add_error("quantity", _("Enter a quantity."))
        return data


ItemFormSet = forms.formset_factory(ItemForm, extra=ITEM_ROWS, max_num=50, absolute_max=50, validate_max=True)


class ManualSubscriptionForm(forms.Form):
    name = forms.CharField(label=_L("Name"), max_length=200)
    customer = forms.ChoiceField(label=_L("Customer"))
    currency = forms.ChoiceField(label=_L("Currency"), choices=[(c, c) for c in settings.CURRENCIES])
    frequency = forms.ChoiceField(label=_L("Billing frequency"), choices=RECURRING, initial=Frequency.MONTHLY)
    start_date = forms.DateField(label=_L("Start date"), widget=_DATE, help_text=_L("Today, or a later day."))
    term_periods = forms.IntegerField(
        label=_L("Term (periods)"),
        required=False,
        min_value=1,
        max_value=1000,
        help_text=_L("Leave empty to renew until canceled."),
    )
    collection_method = forms.ChoiceField(
        label=_L("Collection"), choices=CollectionMethod.choices, initial=CollectionMethod.SEND_INVOICE
    )
    payment_method_ref = forms.ChoiceField(label=_L("Saved payment method"), required=False)
    payment_terms_days = forms.IntegerField(label=_L("Payment terms (days)"), min_value=0, max_value=365, initial=14)
    trial_days = forms.IntegerField(label=_L("Trial (days)"), min_value=0, max_value=730, initial=0, required=False)
    coupon = forms.ModelChoiceField(
        label=_L("Coupon"), queryset=Coupon.objects.none(), required=False, empty_label=_L("None")
    )

    def __init__(self, *args, customers: list[tuple[str, str]], payment_methods: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"].choices = customers
        self.fields["coupon"].queryset = Coupon.objects.filter(active=True).order_by("name", "id")
        if payment_methods:
            self.fields["payment_method_ref"].choices = [("", _("None"))] + payment_methods
        else:
            # Billing cannot see saved payment methods unless the payments app names them: without one, the
            # subscription sends invoices.
            del self.fields["payment_method_ref"]
            self.fields["collection_method"].choices = [
                (CollectionMethod.SEND_INVOICE, CollectionMethod.SEND_INVOICE.label)
            ]
            self.fields["collection_method"].help_text = _(
                "Charging automatically becomes possible once the customer has a saved payment method."
            )


class ChangeItemsForm(forms.Form):
    """The subscription's lines with their quantity and unit price, each removable; added products come in an
    ItemFormSet next to it."""

    def __init__(self, *args, lines, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        for line in self.lines:
            self.fields[f"quantity_{line.pk}"] = LocalizedDecimalField(
                label=_("Quantity of %(name)s") % {"name": line.name}, initial=line.quantity
            )
            self.fields[f"unit_price_{line.pk}"] = LocalizedDecimalField(
                label=_("Unit price of %(name)s") % {"name": line.name}, initial=line.unit_price, min_decimals=2
            )
            self.fields[f"remove_{line.pk}"] = forms.BooleanField(
                label=_("Remove %(name)s") % {"name": line.name}, required=False
            )

    def rows(self):
        return [
            (line, self[f"quantity_{line.pk}"], self[f"unit_price_{line.pk}"], self[f"remove_{line.pk}"])
            for line in self.lines
        ]
