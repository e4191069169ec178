"""Money: its one rounding rule, its upper bound, its representation at service boundaries (django-money's
`Money`), and its formatting in the active language, through Babel (the same data django-money uses)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from babel.numbers import format_currency, format_decimal, get_currency_precision
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from djmoney.money import Money

# Babel locales for the interface languages; money follows the reader's language, the currency its own rules.
_LOCALES = {"en": "en_IE", "nl": "nl_NL", "nb": "nb_NO"}

# Stored amounts (totals, payments, ledger entries): 4 decimals hold every ISO 4217 minor unit (3 for KWD and
# BHD, 4 for CLF), 16 integer digits leave room for sums of many amounts at the upper bound.
MONEY_MAX_DIGITS = 20
MONEY_DECIMAL_PLACES = 4

# The largest amount anything may hold: a price or quantity a person types or imports, a line's total, a document's
# total, a payment, a credit, a late fee, a deal amount. Just under one trillion in any currency: far beyond real
# invoices, yet 10,000 amounts at the bound still add up inside a MONEY_MAX_DIGITS column, so sums of many lines,
# a customer's ledger and report totals never overflow. Checked in forms, services and imports (money_check).
MONEY_MAX = Decimal("999999999999.9999")


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


def money_bound_text() -> str:
    """The bound as people read it, "1,000,000,000,000" in the reader's language: every amount stays below it."""
    return format_decimal(MONEY_MAX.to_integral_value(rounding=ROUND_HALF_UP), locale=current_locale())


def money_too_large_message() -> str:
    return _("Enter an amount below %(bound)s.") % {"bound": money_bound_text()}


def money_in_bounds(amount) -> bool:
    """Whether `amount` is a finite number within ±MONEY_MAX (negative amounts are each caller's own rule)."""
    try:
        amount = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        return False
    return amount.is_finite() and abs(amount) <= MONEY_MAX


def money_amount_error(amount, currency: str | None) -> str | None:
    """Why `amount` cannot be received or granted in `currency` (None when it can): it must be above zero, within
    MONEY_MAX and in the currency's minor units (not checked without a currency)."""
    try:
        amount = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        amount = Decimal("NaN")
    if not amount.is_finite() or amount <= 0:
        return _("Enter an amount above zero.")
    if not money_in_bounds(amount):
        return money_too_large_message()
    if currency and quantize(amount, currency) != amount:
        return _("Use at most the currency's decimals.")
    return None


def money_check(amount, *, field: str | None = None, message: str | None = None) -> None:
    """Raise a ValidationError (on `field`, when given) when `amount` is beyond MONEY_MAX."""
    if not money_in_bounds(amount):
        error = ValidationError(message or money_too_large_message(), code="money_too_large")
        raise ValidationError({field: [error]}) if field else error


def money(amount, currency: str) -> Money:
    """An amount as the services exchange it: a django-money Money, rounded to the currency's minor unit."""
    return Money(quantize(Decimal(amount), currency), currency)


def money_format(amount, currency: str | None = None, locale: str | None = None) -> str:
    """`amount` (a Decimal with `currency`, or a Money) in the reader's language, at the currency's precision."""
    if amount is None:
        return ""
    if isinstance(amount, Money):
        amount, currency = amount.amount, str(amount.currency)
    return format_currency(quantize(Decimal(amount), currency), currency, locale=locale or current_locale())


def unit_price_format(amount, currency: str, locale: str | None = None) -> str:
    """A unit price with every decimal it keeps (up to 6) and at least the currency's own: 1.2345 KWD stays
    1.2345, never the 1.235 that rounding would show next to a line total of 3.704."""
    if amount is None:
        return ""
    value = Decimal(amount).normalize()
    return format_currency(value, currency, locale=locale or current_locale(), decimal_quantization=False)


def number_format(value, locale: str | None = None) -> str:
    return format_decimal(value, locale=locale or current_locale())
