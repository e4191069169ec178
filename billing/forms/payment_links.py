"""Forms of payment links: the seller's builder and the buyer's purchase form. They parse what was typed; the
services decide what is allowed (billing.services.payment_links, billing.services.payment_link_checkout)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _L

from billing.models import PaymentMethod
from billing.models.payment_links import AfterPayment
from billing.services.payment_link_checkout import BuyerDetails
from billing.services.payment_links import MAX_QUANTITY, MAX_TRIAL_DAYS, PaymentLinkValues
from commerce_hub.organization.models import COUNTRY_CHOICES


class PaymentLinkForm(forms.Form):
    name = forms.CharField(
        label=_L("Name"), max_length=200, help_text=_L("Buyers see it as the title of the page they pay on.")
    )
    currency = forms.ChoiceField(label=_L("Currency"), choices=[(c, c) for c in settings.CURRENCIES])
    language = forms.ChoiceField(label=_L("Language of the buyer's page"), choices=settings.LANGUAGES)
    payment_methods = forms.MultipleChoiceField(
        label=_L("Accepted payment methods"), choices=PaymentMethod.choices, widget=forms.CheckboxSelectMultiple
    )
    adjustable_quantity = forms.BooleanField(label=_L("Buyers can change the quantity"), required=False)
    min_quantity = forms.IntegerField(label=_L("Minimum quantity"), initial=1, min_value=1, max_value=MAX_QUANTITY)
    max_quantity = forms.IntegerField(label=_L("Maximum quantity"), initial=99, min_value=1, max_value=MAX_QUANTITY)
    collect_billing_address = forms.BooleanField(label=_L("Ask for the billing address"), required=False)
    collect_phone = forms.BooleanField(label=_L("Ask for a phone number"), required=False)
    after_payment = forms.ChoiceField(
        label=_L("After payment"), choices=AfterPayment.choices, widget=forms.RadioSelect, initial=AfterPayment.MESSAGE
    )
    thank_you_message = forms.CharField(
        label=_L("Thank-you message"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_L("Shown once the payment succeeded. Empty: a standard thank-you."),
    )
    redirect_url = forms.CharField(
        label=_L("Redirect URL"),
        required=False,
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://", "inputmode": "url"}),
        help_text=_L("An https:// page of yours buyers go to once they paid."),
    )
    trial_days = forms.IntegerField(
        label=_L("Free trial (days)"),
        required=False,
        min_value=1,
        max_value=MAX_TRIAL_DAYS,
        help_text=_L("Recurring lines are first charged when the trial ends. Empty: no trial."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Only needed when the buyer may choose the quantity; the service ignores them otherwise.
        self.fields["min_quantity"].required = False
        self.fields["max_quantity"].required = False

    def values(self) -> PaymentLinkValues:
        data = self.cleaned_data
        return PaymentLinkValues(
            name=data["name"],
            currency=data["currency"],
            language=data["language"],
            payment_methods=list(data["payment_methods"]),
            adjustable_quantity=data["adjustable_quantity"],
            min_quantity=data.get("min_quantity") or 1,
            max_quantity=data.get("max_quantity") or 1,
            collect_billing_address=data["collect_billing_address"],
            collect_phone=data["collect_phone"],
            after_payment=data["after_payment"],
            thank_you_message=data["thank_you_message"],
            redirect_url=data["redirect_url"],
            trial_days=data.get("trial_days"),
        )


class PurchaseForm(forms.Form):
    """The buyer's form on the link's page; which fields it has depends on the link."""

    email = forms.EmailField(
        label=_L("Email"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    name = forms.CharField(
        label=_L("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    company_name = forms.CharField(
        label=_L("Company (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    quantity = forms.IntegerField(label=_L("Quantity"), min_value=1, initial=1)
    phone = forms.CharField(label=_L("Phone"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "tel"}))
    line1 = forms.CharField(
        label=_L("Street address"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "address-line1"})
    )
    line2 = forms.CharField(
        label=_L("Address line 2 (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-line2"}),
    )
    postal_code = forms.CharField(
        label=_L("Postal code"), max_length=20, widget=forms.TextInput(attrs={"autocomplete": "postal-code"})
    )
    city = forms.CharField(
        label=_L("City"), max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"})
    )
    country = forms.ChoiceField(
        label=_L("Country"), choices=COUNTRY_CHOICES, widget=forms.Select(attrs={"autocomplete": "country"})
    )

    def __init__(self, *args, link, **kwargs):
        super().__init__(*args, **kwargs)
        self.link = link
        if link.adjustable_quantity:
            quantity = self.fields["quantity"]
            quantity.min_value, quantity.max_value = link.min_quantity, link.max_quantity
            quantity.validators = []
            quantity.widget.attrs.update({"min": link.min_quantity, "max": link.max_quantity})
            quantity.initial = link.min_quantity
        else:
            del self.fields["quantity"]
        if not link.collect_phone:
            del self.fields["phone"]
        if not link.collect_billing_address:
            for name in ("line1", "line2", "postal_code", "city", "country"):
                del self.fields[name]

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        link = self.link
        if not link.min_quantity <= quantity <= link.max_quantity:
            raise forms.ValidationError(
                _L("Choose a quantity from %(min)d to %(max)d."),
                params={"min": link.min_quantity, "max": link.max_quantity},
            )
        return quantity

    def buyer(self) -> BuyerDetails:
        data = self.cleaned_data
        address = {}
        if self.link.collect_billing_address:
            address = {name: data.get(name, "") for name in ("line1", "line2", "postal_code", "city", "country")}
        return BuyerDetails(
            email=data["email"],
            name=data["name"],
            company_name=data.get("company_name", ""),
            phone=data.get("phone", ""),
            billing_address=address,
            quantity=data.get("quantity") or 1,
        )
