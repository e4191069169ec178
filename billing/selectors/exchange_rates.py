"""Exchange rates for reports in the company currency. Documents never convert: they stay in their own currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.numbers import format_decimal
from django.db.models import Q, QuerySet

from billing.models import ExchangeRate
from commerce_hub.money import current_locale, quantize
from commerce_hub.pagination import Page, keyset_page


@dataclass(frozen=True)
class RateQuote:
    """How many units of `to_currency` one unit of `from_currency` buys, from the rate an admin entered (or its
    inverse, when the admin entered the pair the other way round)."""

    from_currency: str
    to_currency: str
    rate: Decimal  # unrounded: 1 / rate of an inverse pair keeps full precision until the converted amount rounds
    valid_from: date
    inverse: bool

    def apply(self, amount: Decimal) -> Decimal:
        return quantize(Decimal(amount) * self.rate, self.to_currency)

    def display(self) -> str:
        """ "1 NOK = 0.0856 EUR" in the reader's number format (4 decimals at most)."""
        shown = format_decimal(self.rate.quantize(Decimal("0.0001")), format="#,##0.####", locale=current_locale())
        return f"1 {self.from_currency} = {shown} {self.to_currency}"


def rate_text(row: ExchangeRate) -> str:
    """ "1 NOK = 0.0856 EUR" for a stored row, every entered decimal kept, in the reader's number format."""
    shown = format_decimal(row.rate, format="#,##0.########", locale=current_locale())
    return f"1 {row.base} = {shown} {row.quote}"


def exchange_rate_on(from_currency: str, to_currency: str, on_date: date) -> RateQuote | None:
    """The latest rate valid on `on_date` for the pair, entered either way round; a direct rate wins a tie.

    One query: both directions, newest first.
    """
    if from_currency == to_currency:
        return RateQuote(from_currency, to_currency, Decimal(1), on_date, False)
    rows = list(
        ExchangeRate.objects.filter(
            Q(base=from_currency, quote=to_currency) | Q(base=to_currency, quote=from_currency),
            valid_from__lte=on_date,
        )
        .order_by("-valid_from", "-created_at", "-id")
        .values_list("base", "rate", "valid_from")[:2]
    )
    if not rows:
        return None
    # One rate per pair and day, so the two newest rows are enough to see a same-day tie between the directions;
    # the direct one wins, it is what the admin typed for this pair.
    direct = [r for r in rows if r[0] == from_currency and r[2] == rows[0][2]]
    base, rate, valid_from = direct[0] if direct else rows[0]
    if base == from_currency:
        return RateQuote(from_currency, to_currency, rate, valid_from, False)
    return RateQuote(from_currency, to_currency, Decimal(1) / rate, valid_from, True)


def convert(amount: Decimal, from_currency: str, to_currency: str, on_date: date) -> Decimal | None:
    """`amount` in `to_currency`, rounded to its precision, or None when no rate is valid on that date."""
    quote = exchange_rate_on(from_currency, to_currency, on_date)
    return None if quote is None else quote.apply(amount)


def exchange_rate_list(*, cursor: str | None, currency: str = "") -> Page:
    qs: QuerySet = ExchangeRate.objects.all()
    if currency:
        qs = qs.filter(Q(base=currency) | Q(quote=currency))
    return keyset_page(qs, ordering=["base", "quote", "-valid_from", "-id"], cursor=cursor, size=50)
