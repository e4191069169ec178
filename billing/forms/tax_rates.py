from django import forms
from django.utils.translation import gettext_lazy as _

from billing.forms.fields import LocalizedDecimalField
from billing.models import TaxRate
from commerce_hub.organization.models import COUNTRY_CHOICES


class TaxRateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("As invoices print it, e.g. “BTW 21%”."))
    rate = LocalizedDecimalField(label=_("Rate (%)"), help_text=_("From 0 to 100, with up to 2 decimals."))
    category = forms.ChoiceField(
        label=_("Category"),
        choices=TaxRate.Category.choices,
        help_text=_("Zero, exempt and reverse-charge rates are 0%."),
    )
    country = forms.ChoiceField(label=_("Country"), required=False, choices=[("", _("Any country")), *COUNTRY_CHOICES])
