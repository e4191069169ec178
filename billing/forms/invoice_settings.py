"""Forms of Settings → Invoices. They turn text into values; billing.services.invoice_settings decides what is
allowed, so the page shows the service's messages next to the fields."""

from __future__ import annotations

from django import forms
from django.conf import settings as django_settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from billing.forms.fields import AmountField, LocalizedDecimalField, decimal_input
from billing.models import InvoiceSettings, LateFeeMode, NumberSeries, PaymentMethod, ReminderStep
from billing.services.invoice_settings import PAYMENT_TERMS_PRESETS

CUSTOM = "custom"


def _terms_label(days: int) -> str:
    return str(_("Due on receipt")) if days == 0 else str(_("Net %(days)d days") % {"days": days})


def payment_terms_choices() -> list[tuple[str, str]]:
    return [(str(days), _terms_label(days)) for days in PAYMENT_TERMS_PRESETS] + [(CUSTOM, _("Custom"))]


def step_when(offset_days: int) -> str:
    """'3 days before the due date', 'On the due date', '7 days after the due date'."""
    if offset_days == 0:
        return str(_("On the due date"))
    days = abs(offset_days)
    if offset_days < 0:
        return ngettext("%(days)d day before the due date", "%(days)d days before the due date", days) % {"days": days}
    return ngettext("%(days)d day after the due date", "%(days)d days after the due date", days) % {"days": days}


class NumberingForm(forms.Form):
    invoice_prefix = forms.CharField(
        label=_("Invoice number prefix"), max_length=12, help_text=_("Letters, digits, dashes or slashes.")
    )
    invoice_start = forms.IntegerField(label=_("Next invoice number"))
    credit_note_prefix = forms.CharField(label=_("Credit note number prefix"), max_length=12)
    credit_note_start = forms.IntegerField(label=_("Next credit note number"))

    @classmethod
    def initial_for(cls, series: dict[str, NumberSeries]) -> dict:
        invoice, credit_note = series[NumberSeries.INVOICE], series[NumberSeries.CREDIT_NOTE]
        return {
            "invoice_prefix": invoice.prefix,
            "invoice_start": invoice.next_number,
            "credit_note_prefix": credit_note.prefix,
            "credit_note_start": credit_note.next_number,
        }


class DefaultsForm(forms.Form):
    payment_methods = forms.MultipleChoiceField(
        label=_("Accepted payment methods"),
        choices=PaymentMethod.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,  # the service says "at least one", in the same words as on an invoice
        help_text=_("New invoices offer these; each invoice can change them."),
    )
    payment_terms = forms.ChoiceField(label=_("Payment terms"), choices=payment_terms_choices)
    payment_terms_custom = forms.IntegerField(
        label=_("Days to pay"),
        required=False,
        help_text=_("From 0 to 365 days after the invoice date, when the terms are “Custom”."),
        widget=forms.NumberInput(attrs={"min": 0, "max": 365, "inputmode": "numeric"}),
    )
    footer_text = forms.CharField(
        label=_("Footer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Printed at the bottom of every invoice."),
    )
    legal_text = forms.CharField(
        label=_("Legal text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example your general terms, or a note on reverse-charge VAT."),
    )
    bank_account_holder = forms.CharField(label=_("Account holder"), max_length=70, required=False)
    iban = forms.CharField(
        label=_("IBAN"), max_length=50, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    bic = forms.CharField(
        label=_("BIC"),
        max_length=20,
        required=False,
        help_text=_("Leave it empty to fill it in from the IBAN."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    credit_auto_apply = forms.BooleanField(
        label=_("Apply customer credit to new invoices automatically"),
        required=False,
        help_text=_("Overpayments and credit notes the customer keeps pay their next invoice in the same currency."),
    )
    email = forms.CharField(  # checked by the service, so its message comes with the other fields' messages
        label=_("Reply-to email for invoices"),
        max_length=254,
        required=False,
        widget=forms.EmailInput,
        help_text=_("Buyers who reply to an invoice or a reminder write to this address."),
    )

    @classmethod
    def initial_for(cls, settings: InvoiceSettings) -> dict:
        days = settings.payment_terms_days
        preset = days in PAYMENT_TERMS_PRESETS
        return {
            "payment_methods": list(settings.payment_methods),
            "payment_terms": str(days) if preset else CUSTOM,
            "payment_terms_custom": None if preset else days,
            "footer_text": settings.footer_text,
            "legal_text": settings.legal_text,
            "bank_account_holder": settings.bank_account_holder,
            "iban": settings.iban,
            "bic": settings.bic,
            "email": settings.email,
            "credit_auto_apply": settings.credit_auto_apply,
        }

    def clean(self):
        data = super().clean()
        terms = data.get("payment_terms")
        if terms == CUSTOM:
            # An empty box is the service's to refuse, so it is reported together with the other fields' errors.
            data["payment_terms_days"] = data.get("payment_terms_custom")
        elif terms is not None:
            data["payment_terms_days"] = int(terms)
        return data

    def service_values(self) -> dict:
        data = self.cleaned_data
        return {name: data[name] for name in self.fields if name not in ("payment_terms", "payment_terms_custom")} | {
            "payment_terms_days": data["payment_terms_days"]
        }

    def service_field_map(self) -> dict:
        """Where the service's payment_terms_days error shows: next to the box the number came from."""
        custom = self.cleaned_data.get("payment_terms") == CUSTOM
        return {"payment_terms_days": "payment_terms_custom" if custom else "payment_terms"}


class ReminderSettingsForm(forms.Form):
    reminders_enabled = forms.BooleanField(
        label=_("Send payment reminders"),
        required=False,
        help_text=_("Emailed to the buyer's contacts on the days of the schedule below."),
    )
    skip_weekends = forms.BooleanField(
        label=_("Do not send on weekends"),
        required=False,
        help_text=_("Reminders due on a Saturday or Sunday go out on Monday."),
    )


class HostedLinkForm(forms.Form):
    expiry_days = forms.IntegerField(
        label=_("Links stop working this many days after the invoice is paid"),
        required=False,
        min_value=1,
        max_value=3650,
        help_text=_("Leave empty to keep links working. A buyer who opens an expired link is told to ask you."),
    )


class ReminderStepForm(forms.Form):
    offset_days = forms.IntegerField(
        label=_("Days from the due date"),
        help_text=_("-3 is three days before the due date, 0 the due date itself, 7 a week after."),
        widget=forms.NumberInput(attrs={"min": -60, "max": 365, "inputmode": "numeric"}),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ReminderStep.Kind.choices)


class LateFeeForm(forms.Form):
    late_fee_mode = forms.ChoiceField(label=_("Late fee"), choices=LateFeeMode.choices, widget=forms.RadioSelect)
    late_fee_amount = AmountField(
        label=_("Fixed amount"),
        help_text=_("An invoice in another currency is charged this amount at the exchange rate of the day."),
    )
    late_fee_currency = forms.ChoiceField(
        label=_("Currency of the fixed amount"),
        choices=[(code, code) for code in django_settings.CURRENCIES],
        required=False,  # absent: the currency it has now
    )
    late_fee_interest_rate = LocalizedDecimalField(
        label=_("Yearly interest rate (%)"),
        help_text=_(
            "The Dutch statutory commercial interest is 10.15%; Norway's late payment interest (forsinkelsesrente) "
            "is set by the Ministry of Finance twice a year."
        ),
    )
    late_fee_after_days = forms.IntegerField(
        label=_("Days after the due date"),
        help_text=_("The late fee is invoiced once the invoice is this many days overdue."),
        widget=forms.NumberInput(attrs={"min": 1, "max": 365, "inputmode": "numeric"}),
    )

    @classmethod
    def initial_for(cls, settings: InvoiceSettings) -> dict:
        return {
            "late_fee_mode": settings.late_fee_mode,
            "late_fee_amount": decimal_input(settings.late_fee_amount, min_decimals=2),
            "late_fee_currency": settings.late_fee_currency,
            "late_fee_interest_rate": decimal_input(settings.late_fee_interest_rate),
            "late_fee_after_days": settings.late_fee_after_days,
        }
