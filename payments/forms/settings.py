"""Forms of Settings → Payments. They turn text into values; payments.services.payment_settings decides what is
allowed, so the page shows the service's messages next to the fields. Secret inputs never render a value back."""

from __future__ import annotations

from django import forms
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from billing.forms.fields import LocalizedDecimalField, decimal_input
from payments.models import PaymentSettings, PayoutSchedule, ProcessorKey


class ChoiceRadioSelect(forms.RadioSelect):
    """Radio buttons of which some cannot be chosen now (shown, greyed out, with the reason next to them)."""

    def __init__(self, *args, disabled_values=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.disabled_values = set(disabled_values)

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        if str(value) in self.disabled_values:
            option["attrs"]["disabled"] = True
        return option


def _secret_input() -> forms.PasswordInput:
    # render_value=False: a stored secret is never sent back to the browser, not even into a field.
    return forms.PasswordInput(render_value=False, attrs={"autocomplete": "off", "spellcheck": "false"})


class ProcessorForm(forms.Form):
    processor = forms.ChoiceField(label=_("Payment processor"), choices=ProcessorKey.choices)

    def __init__(self, *args, stripe_ready: bool, **kwargs):
        super().__init__(*args, **kwargs)
        disabled = () if stripe_ready else (ProcessorKey.STRIPE.value,)
        self.fields["processor"].widget = ChoiceRadioSelect(choices=ProcessorKey.choices, disabled_values=disabled)


class StripeKeysForm(forms.Form):
    publishable_key = forms.CharField(
        label=_("Publishable key"),
        max_length=200,
        help_text=_("Starts with pk_test_ or pk_live_. The checkout page loads Stripe.js with it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    secret_key = forms.CharField(
        label=_("Secret key"),
        max_length=200,
        required=False,  # empty keeps the stored key; the service asks for one when none is stored
        widget=_secret_input(),
    )


class SigningSecretForm(forms.Form):
    secret = forms.CharField(
        label=_("Signing secret"),
        max_length=200,
        help_text=_("Starts with whsec_. Stripe shows it on the webhook endpoint's page after you add the URL."),
        widget=_secret_input(),
    )


class BuiltinProcessingForm(forms.Form):
    card_fee_percent = LocalizedDecimalField(label=_("Card fee (%)"))
    card_fee_fixed = LocalizedDecimalField(
        label=_("Card fee, fixed part"), min_decimals=2, help_text=_("In the payment's currency.")
    )
    redirect_fee_percent = LocalizedDecimalField(label=_("iDEAL and wallet fee (%)"))
    redirect_fee_fixed = LocalizedDecimalField(label=_("iDEAL and wallet fee, fixed part"), min_decimals=2)
    debit_fee_percent = LocalizedDecimalField(label=_("Bank debit fee (%)"))
    debit_fee_cap = LocalizedDecimalField(
        label=_("Bank debit fee cap"), min_decimals=2, help_text=_("The most one debit costs, in its currency.")
    )
    dispute_fee = LocalizedDecimalField(label=_("Dispute fee"), min_decimals=2)
    settlement_delay_days = forms.IntegerField(
        label=_("Settlement delay (days)"),
        help_text=_("Collected money can be paid out this many days later."),
        widget=forms.NumberInput(attrs={"min": 0, "max": 30, "inputmode": "numeric"}),
    )
    debit_processing_days = forms.IntegerField(
        label=_("Bank debits settle after (days)"),
        help_text=_("A SEPA or ACH debit stays processing this long, then settles or fails."),
        widget=forms.NumberInput(attrs={"min": 1, "max": 14, "inputmode": "numeric"}),
    )

    @classmethod
    def initial_for(cls, settings: PaymentSettings) -> dict:
        initial = {
            name: decimal_input(getattr(settings, name), min_decimals=2 if "percent" not in name else 0)
            for name in (
                "card_fee_percent",
                "card_fee_fixed",
                "redirect_fee_percent",
                "redirect_fee_fixed",
                "debit_fee_percent",
                "debit_fee_cap",
                "dispute_fee",
            )
        }
        return initial | {
            "settlement_delay_days": settings.settlement_delay_days,
            "debit_processing_days": settings.debit_processing_days,
        }


class PayoutScheduleForm(forms.Form):
    payout_schedule = forms.ChoiceField(label=_("Pay out"), choices=PayoutSchedule.choices, widget=forms.RadioSelect)
    payout_weekday = forms.TypedChoiceField(
        label=_("Day of the week"),
        choices=sorted(WEEKDAYS.items()),
        coerce=int,
        empty_value=None,
        required=False,
        help_text=_("For weekly payouts."),
    )
    payout_monthday = forms.IntegerField(
        label=_("Day of the month"),
        required=False,
        help_text=_("For monthly payouts; in shorter months the last day."),
        widget=forms.NumberInput(attrs={"min": 1, "max": 31, "inputmode": "numeric"}),
    )


class ReceiptBrandingForm(forms.Form):
    receipt_footer = forms.CharField(
        label=_("Receipt footer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Printed at the bottom of every receipt, for example how to reach you about a payment."),
    )
    receipt_accent_color = forms.CharField(
        label=_("Accent colour"),
        max_length=20,
        help_text=_("Headings and rules on receipts, as # and six hexadecimal digits, like #1f6feb."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "size": 8}),
    )
