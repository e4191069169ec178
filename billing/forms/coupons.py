"""The coupon form and the Settings → Subscriptions form. The services decide what is allowed (billing.services.coupons,
billing.services.subscription_settings); their errors land next to these fields."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _L

from billing.forms.fields import LocalizedDecimalField
from billing.models import AfterFinalRetry, CouponDuration


class CouponForm(forms.Form):
    KIND = [("percent", _L("Percentage off")), ("amount", _L("Amount off"))]
    name = forms.CharField(label=_L("Name"), max_length=120)
    code = forms.CharField(label=_L("Code"), max_length=40, required=False, help_text=_L("Optional, e.g. WELCOME20."))
    kind = forms.ChoiceField(label=_L("Discount"), choices=KIND, widget=forms.RadioSelect, initial="percent")
    percent_off = LocalizedDecimalField(label=_L("Percent off"), required=False)
    amount_off = LocalizedDecimalField(label=_L("Amount off"), required=False, min_decimals=2)
    currency = forms.ChoiceField(
        label=_L("Currency of the amount"), required=False, choices=[("", "—")] + [(c, c) for c in settings.CURRENCIES]
    )
    duration = forms.ChoiceField(label=_L("Applies"), choices=CouponDuration.choices, initial=CouponDuration.ONCE)
    duration_periods = forms.IntegerField(
        label=_L("Number of periods"),
        required=False,
        min_value=1,
        max_value=1000,
        help_text=_L("For “For a number of periods”."),
    )

    def clean(self):
        data = super().clean()
        if data.get("kind") == "percent":
            data["amount_off"] = None
            if data.get("percent_off") is None and "percent_off" not in self.errors:
                self.add_error("percent_off", _("Enter the percentage."))
        elif data.get("kind") == "amount":
            data["percent_off"] = None
            if data.get("amount_off") is None and "amount_off" not in self.errors:
                self.add_error("amount_off", _("Enter the amount."))
        return data


class SubscriptionSettingsForm(forms.Form):
    retry_days = forms.CharField(
        label=_L("Retry a failed charge after (days)"),
        max_length=100,
        help_text=_L("Days after the first failure, increasing, separated by commas: for example 1, 3, 5, 7."),
    )
    after_final_retry = forms.ChoiceField(
        label=_L("After the last retry"), choices=AfterFinalRetry.choices, widget=forms.RadioSelect
    )
    trial_reminder_days = forms.IntegerField(
        label=_L("Email the customer before a trial ends (days)"), min_value=0, max_value=60
    )
