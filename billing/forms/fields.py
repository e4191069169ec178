"""Number fields that read the user's own notation ('1.234,50' in Dutch, '1 234,50' in Norwegian, '1,234.50' in
English; plain '1234.50' everywhere) through commerce_hub.numbers.parse_decimal_localized, and show stored values
the same way.

They only turn text into a Decimal; the services decide what is allowed (sign, decimals, size), so a form and a CSV
import refuse the same values with the same messages.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_decimal
from django import forms
from django.utils.translation import gettext as _

from commerce_hub.money import current_locale, money_in_bounds, money_too_large_message
from commerce_hub.numbers import parse_decimal_localized


def decimal_input(value, *, min_decimals: int = 0) -> str:
    """A stored Decimal as the user would type it: their decimal sign, no grouping, no trailing zeros beyond
    `min_decimals` (2 for prices), at most 6 decimals (what a unit price keeps)."""
    if value in (None, ""):
        return ""
    if not isinstance(value, Decimal):
        return str(value)
    pattern = "0." + "0" * min_decimals + "#" * (6 - min_decimals)
    return format_decimal(value, format=pattern, locale=current_locale())


class LocalizedDecimalInput(forms.TextInput):
    input_type = "text"

    def __init__(self, *, min_decimals: int = 0, attrs=None):
        super().__init__(attrs={"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})
        self.min_decimals = min_decimals

    def format_value(self, value):
        return decimal_input(value, min_decimals=self.min_decimals) or None


class LocalizedDecimalField(forms.CharField):
    def __init__(self, *, min_decimals: int = 0, **kwargs):
        kwargs.setdefault("widget", LocalizedDecimalInput(min_decimals=min_decimals))
        super().__init__(**kwargs)

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        if len(text) > 40:
            raise forms.ValidationError(_("That number is too long."))
        return parse_decimal_localized(text)


class AmountField(LocalizedDecimalField):
    """An amount of money: a payment, a credit, a fee, an amount to credit. Beyond the one bound of every amount
    (commerce_hub.money.MONEY_MAX) it is refused here, next to the field, before any service or column sees it;
    sign and decimals stay the service's rule, as they depend on the currency."""

    def __init__(self, *, min_decimals: int = 2, **kwargs):
        super().__init__(min_decimals=min_decimals, **kwargs)

    def validate(self, value):
        super().validate(value)
        if isinstance(value, Decimal) and value.is_finite() and not money_in_bounds(value):
            raise forms.ValidationError(money_too_large_message(), code="money_too_large")
