"""Money and number formatting in the active language, through Babel (the same data django-money uses)."""

from decimal import ROUND_HALF_UP, Decimal, localcontext

from babel.numbers import format_currency, format_decimal, get_currency_precision
from django.utils import translation

# Babel locales for the interface languages; money follows the reader's language, the currency its own rules.
_LOCALES = {"en": "en_IE", "nl": "nl_NL", "nb": "nb_NO"}

# Stored amounts (totals, payments, ledger entries): 4 decimals hold every ISO 4217 minor unit (3 for KWD and
# BHD, 4 for CLF), 16 integer digits leave room for sums of many amounts at the upper bound.
MONEY_MAX_DIGITS = 20
MONEY_DECIMAL_PLACES = 4


def current_locale() -> str:
    return _LOCALES.get((translation.get_language() or "en").split("-")[0], "en_IE")


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's minor unit (Babel's precision) half up; the one rounding rule for totals."""
    exponent = Decimal(1).scaleb(-get_currency_precision(currency))
    amount = Decimal(amount)
    with localcontext() as ctx:
        # Enough digits for any amount: the default 28 would raise on values above 10^26 instead of rounding.
        ctx.prec = max(28, amount.adjusted() + 12)
        return amount.quantize(exponent, rounding=ROUND_HALF_UP)


def money_format(amount, currency: str, locale: str | None = None) -> str:
    if amount is None:
        return ""
    return format_currency(quantize(Decimal(amount), currency), currency, locale=locale or current_locale())


def number_format(value, locale: str | None = None) -> str:
    return format_decimal(value, locale=locale or current_locale())
