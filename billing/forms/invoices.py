"""Forms of the invoice pages. They parse what the user typed; the services decide what is allowed."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _L

from billing.forms.fields import AmountField, LocalizedDecimalField
from billing.models import PaymentMethod, PaymentMethodKind
from crm.models import Company, Contact

TERMS_CHOICES = [
    ("", _L("Company default")),
    ("0", _L("Due on receipt")),
    ("7", _L("Net 7")),
    ("14", _L("Net 14")),
    ("30", _L("Net 30")),
    ("60", _L("Net 60")),
    ("custom", _L("Custom number of days")),
    ("date", _L("A due date")),
]
_PICKED_ID = re.compile(r"\(#(\d{1,18})\)\s*$")


def picked_record(model, text: str, *, name_field: str):
    """A record chosen from a search list: "Fjordline AS (#12)", or a name that matches exactly one record."""
    text = (text or "").strip()
    if not text:
        return None
    match = _PICKED_ID.search(text)
    if match:
        return model.objects.filter(pk=int(match.group(1))).first()
    found = list(model.objects.filter(**{f"{name_field}__iexact": text})[:2])
    return found[0] if len(found) == 1 else None


def _picked_company(text: str):
    company = picked_record(Company, text, name_field="name")
    if text and company is None:
        raise forms.ValidationError(_("Choose a company from the list."))
    return company


def _picked_contact(text: str):
    contact = picked_record(Contact, text, name_field="email")
    if text and contact is None:
        raise forms.ValidationError(_("Choose a contact from the list."))
    return contact


def picked_label(record) -> str:
    return f"{record} (#{record.pk})" if record is not None else ""


class DraftForm(forms.Form):
    company = forms.CharField(label=_L("Company"), required=False, max_length=260)
    contacts = forms.ModelMultipleChoiceField(
        label=_L("Send to"), queryset=Contact.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    add_contact = forms.CharField(label=_L("Add a contact"), required=False, max_length=260)
    currency = forms.ChoiceField(label=_L("Currency"), choices=[(c, c) for c in settings.CURRENCIES])
    language = forms.ChoiceField(label=_L("Invoice language"), choices=settings.LANGUAGES)
    terms = forms.ChoiceField(label=_L("Payment terms"), choices=TERMS_CHOICES, required=False)
    terms_days = forms.IntegerField(label=_L("Days"), required=False, min_value=0, max_value=365)
    custom_due_date = forms.DateField(
        label=_L("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    payment_methods = forms.MultipleChoiceField(
        label=_L("Accepted payment methods"), choices=PaymentMethod.choices, widget=forms.CheckboxSelectMultiple
    )
    comments = forms.CharField(
        label=_L("Comments for the buyer"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, contact_choices=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = contact_choices if contact_choices is not None else Contact.objects.none()

    def clean_company(self):
        return _picked_company(self.cleaned_data["company"])

    def clean_add_contact(self):
        return _picked_contact(self.cleaned_data["add_contact"])

    def clean(self):
        data = super().clean()
        terms = data.get("terms")
        data["payment_terms_days"] = None
        if terms == "custom":
            if data.get("terms_days") is None:
                self.add_error("terms_days", _("Enter the number of days."))
            data["payment_terms_days"] = data.get("terms_days")
        elif terms and terms.isdigit():
            data["payment_terms_days"] = int(terms)
        if terms == "date":
            if data.get("custom_due_date") is None:
                self.add_error("custom_due_date", _("Enter the due date."))
        else:
            data["custom_due_date"] = None
        return data


def draft_initial(invoice) -> dict:
    if invoice.custom_due_date:
        terms = "date"
    elif invoice.payment_terms_days is None:
        terms = ""
    elif str(invoice.payment_terms_days) in {"0", "7", "14", "30", "60"}:
        terms = str(invoice.payment_terms_days)
    else:
        terms = "custom"
    return {
        "company": picked_label(invoice.company),
        "contacts": list(invoice.contacts.all()),
        "currency": invoice.currency,
        "language": invoice.language,
        "terms": terms,
        "terms_days": invoice.payment_terms_days if terms == "custom" else None,
        "custom_due_date": invoice.custom_due_date,
        "payment_methods": invoice.payment_methods,
        "comments": invoice.comments,
    }


class NewInvoiceForm(forms.Form):
    company = forms.CharField(label=_L("Company"), required=False, max_length=260)
    contact = forms.CharField(label=_L("Or a contact"), required=False, max_length=260)
    currency = forms.ChoiceField(label=_L("Currency"), choices=[(c, c) for c in settings.CURRENCIES])

    def clean_company(self):
        return _picked_company(self.cleaned_data["company"])

    def clean_contact(self):
        return _picked_contact(self.cleaned_data["contact"])

    def clean(self):
        data = super().clean()
        if not self.errors and data.get("company") is None and data.get("contact") is None:
            raise forms.ValidationError(_("Choose who the invoice is for: a company or a contact."))
        return data


class PaymentForm(forms.Form):
    amount = AmountField(label=_L("Amount"))
    # A date input only takes ISO dates: in Dutch the locale's first input format (dd-mm-yyyy) left it empty.
    paid_on = forms.DateField(
        label=_L("Payment date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    method = forms.ChoiceField(label=_L("Method"), choices=PaymentMethodKind.choices)
    reference = forms.CharField(label=_L("Reference"), required=False, max_length=140)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["paid_on"].initial = timezone.localdate()  # today where the tenant is (its timezone is active)


class VoidForm(forms.Form):
    reason = forms.CharField(label=_L("Reason (kept in the timeline)"), required=False, max_length=300)


class CreditNoteForm(forms.Form):
    """A quantity box per invoice line, plus up to three amounts at one of the invoice's VAT rates."""

    AMOUNT_ROWS = 3
    mode = forms.ChoiceField(
        label=_L("Credit"),
        choices=[("whole", _L("The whole invoice")), ("parts", _L("Chosen lines or amounts"))],
        widget=forms.RadioSelect,
        initial="whole",
    )
    reason = forms.CharField(label=_L("Reason"), required=False, max_length=300)

    def __init__(self, *args, invoice, **kwargs):
        super().__init__(*args, **kwargs)
        snapshot = invoice.snapshot or {}
        self.line_rows = []
        for index, line in enumerate(snapshot.get("lines", [])):
            name = f"line_{index}"
            self.fields[name] = LocalizedDecimalField(label=line["name"], required=False)
            self.line_rows.append((index, line, name))
        groups = snapshot.get("vat_groups", [])
        vat_choices = [(str(i), g["label"] or f"{g['rate']}%") for i, g in enumerate(groups)]
        self.amount_rows = []
        for row in range(self.AMOUNT_ROWS):
            self.fields[f"amount_{row}_description"] = forms.CharField(
                label=_L("Description"), required=False, max_length=300
            )
            self.fields[f"amount_{row}_net"] = AmountField(label=_L("Amount before VAT"), required=False)
            self.fields[f"amount_{row}_vat"] = forms.ChoiceField(label=_L("VAT"), choices=vat_choices, required=False)
            self.amount_rows.append(row)
