"""Numbers as people type them: in a form, a CSV cell or an inline edit, in the notation of their language."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import NumberFormatError, parse_decimal
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from commerce_hub.money import current_locale

_PLAIN = re.compile(r"-?\d+(\.\d+)?")
# Spaces a spreadsheet or Babel puts between thousands (no-break and narrow no-break), read as plain spaces.
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def parse_decimal_localized(raw: str) -> Decimal:
    """'1.234,50' in Dutch, '1 234,50' in Norwegian, '1,234.50' in English; plain '1234.50' everywhere.

    A plain number is read the same in every language, so a file exported with '.' decimals imports as is; anything
    else is read strictly in the current language, so '1,5' in English is an error rather than fifteen.
    """
    text = raw.strip().translate(_SPACES)
    if _PLAIN.fullmatch(text):
        return Decimal(text)
    try:
        value = parse_decimal(text.replace(" ", ""), locale=current_locale(), strict=True)
    except (NumberFormatError, InvalidOperation) as exc:
        raise ValidationError(_("“%(value)s” is not a number.") % {"value": raw}) from exc
    if not value.is_finite():  # Babel reads "NaN" and "Infinity" as numbers
        raise ValidationError(_("“%(value)s” is not a number.") % {"value": raw})
    return value
