"""Forms of the quote builder. They parse what the user typed; billing.services.quotes decides what is allowed and
its errors land next to these fields (commerce_hub.forms.form_add_errors)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _L

from billing.forms.invoices import picked_label, picked_record
from billing.models import PaymentMethod, Quote, QuoteTemplate, SigningOrder
from commerce_hub.accounts.models import User
from crm.models import Company, Contact

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _company(text: str) -> Company | None:
    company = picked_record(Company, text, name_field="name")
    if text and company is None:
        raise forms.ValidationError(_("Choose a company from the list."))
    return company


def _contact(text: str) -> Contact | None:
    contact = picked_record(Contact, text, name_field="email")
    if text and contact is None:
        raise forms.ValidationError(_("Choose a contact from the list."))
    return contact


class NewQuoteForm(forms.Form):
    """A quote from scratch: the deal it creates, and who it is for."""

    name = forms.CharField(label=_L("Deal name"), max_length=200)
    company = forms.CharField(label=_L("Company"), required=False, max_length=260)
    contact = forms.CharField(label=_L("Contact"), required=False, max_length=260)
    currency = forms.ChoiceField(label=_L("Currency"), choices=[(c, c) for c in settings.CURRENCIES])

    def clean_company(self):
        return _company(self.cleaned_data["company"])

    def clean_contact(self):
        return _contact(self.cleaned_data["contact"])

    def clean(self):
        data = super().clean()
        if "company" in data and "contact" in data and data["company"] is None and data["contact"] is None:
            self.add_error("company", _("Choose who the quote is for: a company or a contact."))
        return data


class DetailsForm(forms.Form):
    title = forms.CharField(label=_L("Title"), max_length=200)
    expires_on = forms.DateField(label=_L("Expiration date"), widget=_DATE)
    language = forms.ChoiceField(
        label=_L("Language"),
        choices=settings.LANGUAGES,
        help_text=_L("The buyer reads the quote, its emails and its PDF in this language."),
    )
    currency = forms.ChoiceField(label=_L("Currency"), choices=[(c, c) for c in settings.CURRENCIES])
    template = forms.ModelChoiceField(
        label=_L("Template"), queryset=QuoteTemplate.objects.none(), required=False, empty_label=_L("The default")
    )

    def __init__(self, *args, quote: Quote, **kwargs):
        super().__init__(*args, **kwargs)
        # An archived template stays selectable on the quote that already uses it.
        self.fields["template"].queryset = QuoteTemplate.objects.filter(
            Q(archived=False) | Q(pk=quote.template_id)
        ).order_by("name", "id")


def details_initial(quote: Quote) -> dict:
    return {
        "title": quote.title,
        "expires_on": quote.expires_on,
        "language": quote.language,
        "currency": quote.currency,
        "template": quote.template_id,
    }


def contact_candidates(quote: Quote, company_id: int | None = None):
    """Who can be ticked as a buyer contact: the company's people, the deal's and those already on the quote."""
    company_id = quote.company_id if company_id is None else company_id
    condition = Q(quotes=quote) | Q(deals=quote.deal_id)
    if company_id:
        condition |= Q(company_id=company_id)
    ids = Contact.objects.filter(condition).values("pk")
    return Contact.objects.filter(pk__in=ids).order_by("last_name", "first_name", "id")


class PartiesForm(forms.Form):
    company = forms.CharField(label=_L("Company"), required=False, max_length=260)
    contacts = forms.ModelMultipleChoiceField(
        label=_L("Buyer contacts"),
        queryset=Contact.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_L("They receive the quote and, when signatures are required, sign it."),
    )
    add_contact = forms.CharField(label=_L("Add a contact"), required=False, max_length=260)
    owner = forms.ModelChoiceField(
        label=_L("Sender"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_L("Nobody"),
        help_text=_L("The quote carries this person's name and email address."),
    )

    def __init__(self, *args, quote: Quote, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = contact_candidates(quote)
        self.fields["owner"].queryset = User.objects.filter(Q(is_active=True) | Q(pk=quote.owner_id)).order_by(
            "full_name", "id"
        )

    def clean_company(self):
        return _company(self.cleaned_data["company"])

    def clean_add_contact(self):
        return _contact(self.cleaned_data["add_contact"])


def parties_initial(quote: Quote) -> dict:
    return {
        "company": picked_label(quote.company),
        "contacts": list(quote.contacts.all()),
        "owner": quote.owner_id,
    }


class OptionsForm(forms.Form):
    signature_required = forms.BooleanField(label=_L("The buyer signs the quote"), required=False)
    countersigners = forms.ModelMultipleChoiceField(
        label=_L("Countersigners"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_L("Colleagues who sign for your company after the buyer."),
    )
    signing_order = forms.ChoiceField(label=_L("Signing order"), choices=SigningOrder.choices, widget=forms.RadioSelect)
    payment_enabled = forms.BooleanField(label=_L("The buyer pays through the quote"), required=False)
    payment_methods = forms.MultipleChoiceField(
        label=_L("Accepted payment methods"),
        choices=PaymentMethod.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, quote: Quote, **kwargs):
        super().__init__(*args, **kwargs)
        chosen = quote.countersigners.values("pk")
        self.fields["countersigners"].queryset = User.objects.filter(Q(is_active=True) | Q(pk__in=chosen)).order_by(
            "full_name", "id"
        )


def options_initial(quote: Quote) -> dict:
    return {
        "signature_required": quote.signature_required,
        "countersigners": list(quote.countersigners.all()),
        "signing_order": quote.signing_order,
        "payment_enabled": quote.payment_enabled,
        "payment_methods": list(quote.payment_methods or []),
    }


class TermsForm(forms.Form):
    comments = forms.CharField(
        label=_L("Comments for the buyer"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_L("Printed above the line items."),
    )
    terms = forms.CharField(
        label=_L("Terms"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_L("Leave empty to print the template's terms."),
    )


def terms_initial(quote: Quote) -> dict:
    return {"comments": quote.comments, "terms": quote.terms}
