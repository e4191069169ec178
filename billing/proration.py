"""Proration of a change in the middle of a billing period: pure arithmetic on the pricing engine's inputs, no ORM.

A change on day `on` of a period [start, end] leaves `days_left` = end - on + 1 of its `days_in_period` days (exact
calendar days, so a February period has 28 or 29). The old lines' unused part comes back as a credit, the new
lines' remaining part is charged, each line as its per-period net (after its own discount, and after a percentage
coupon) times days_left / days_in_period, kept to a unit price's six decimals, then priced by the engine as
one-time lines with the line's own VAT, which rounds each document once: credit and charge are two documents.

So an unchanged subscription nets to exactly zero (the same inputs give the same rounded amounts), and a credit is
never more than the period billed: each prorated net is cut, never rounded up, to at most the full net (the fraction
is at most one), and the engine rounds a smaller or equal subtotal and VAT base the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_DOWN, Decimal, localcontext
from fractions import Fraction

from billing import pricing

_UNIT = Decimal(1).scaleb(-pricing.UNIT_PRICE_DECIMALS)


@dataclass(frozen=True)
class ProratedLine:
    name: str
    line: pricing.LineInput  # one-time, quantity 1, unit price = the prorated net


@dataclass(frozen=True)
class Proration:
    currency: str
    on: date
    period_start: date
    period_end: date
    days_left: int
    days_in_period: int
    credit_lines: tuple[ProratedLine, ...]
    charge_lines: tuple[ProratedLine, ...]
    credit: pricing.DocumentSummary  # the unused time of the old lines (VAT included in credit.total)
    charge: pricing.DocumentSummary  # the remaining time at the new lines

    @property
    def net(self) -> Decimal:
        """What the customer pays (positive) or keeps as credit (negative) because of the change."""
        return self.charge.total - self.credit.total


def period_days(*, period_start: date, period_end: date, on: date) -> tuple[int, int]:
    """(days left, days in the period) for a change taking effect on `on`; a day outside the period leaves 0 (after
    it) or the whole period (before it)."""
    if period_end < period_start:
        raise ValueError("a period ends on or after its start")
    days_in_period = (period_end - period_start).days + 1
    if on > period_end:
        return 0, days_in_period
    if on <= period_start:
        return days_in_period, days_in_period
    return (period_end - on).days + 1, days_in_period


def prorated_net(*, line: pricing.LineInput, fraction: Fraction, percent_off: Decimal | Fraction | None) -> Decimal:
    """One line's net for `fraction` of a period, as a unit price: cut (never rounded up) to the six decimals a unit
    price keeps. The engine then rounds the document once, so a prorated document never comes to more than the
    whole period did."""
    exact = pricing.line_result(line).exact.net * fraction
    if percent_off:
        exact = exact * (1 - Fraction(percent_off) / 100)
    with localcontext() as ctx:
        ctx.prec = len(str(exact.numerator // exact.denominator)) + pricing.UNIT_PRICE_DECIMALS + 10
        ctx.rounding = ROUND_DOWN
        value = Decimal(exact.numerator) / Decimal(exact.denominator)
    return value.quantize(_UNIT, rounding=ROUND_DOWN)


def _prorate(
    named_lines: Sequence[tuple[str, pricing.LineInput]],
    *,
    fraction: Fraction,
    currency: str,
    percent_off: Decimal | Fraction | None,
) -> tuple[ProratedLine, ...]:
    return tuple(
        ProratedLine(
            name=name,
            line=replace(
                line,
                quantity=Decimal(1),
                unit_price=prorated_net(line=line, fraction=fraction, percent_off=percent_off),
                pricing_model=pricing.PricingModel.FLAT,
                tiers=(),
                package_size=None,
                discount_type=None,
                discount_value=Decimal(0),
                frequency=pricing.Frequency.ONE_TIME,
                term_months=None,
                term_weeks=None,
                unit_cost=None,
            ),
        )
        for name, line in named_lines
    )


def proration(
    *,
    old: Sequence[tuple[str, pricing.LineInput]],
    new: Sequence[tuple[str, pricing.LineInput]],
    period_start: date,
    period_end: date,
    on: date,
    currency: str,
    percent_off: Decimal | Fraction | None = None,
) -> Proration:
    """The credit for the old lines' unused time and the charge for the new lines' remaining time. Lines are
    (name, engine input) pairs, each input priced per period. Raises pricing.PricingError for lines the engine
    refuses."""
    days_left, days_in_period = period_days(period_start=period_start, period_end=period_end, on=on)
    fraction = Fraction(days_left, days_in_period)
    credit_lines = _prorate(old, fraction=fraction, currency=currency, percent_off=percent_off)
    charge_lines = _prorate(new, fraction=fraction, currency=currency, percent_off=percent_off)
    return Proration(
        currency=currency,
        on=on,
        period_start=period_start,
        period_end=period_end,
        days_left=days_left,
        days_in_period=days_in_period,
        credit_lines=credit_lines,
        charge_lines=charge_lines,
        credit=pricing.document_summary([p.line for p in credit_lines], currency=currency),
        charge=pricing.document_summary([p.line for p in charge_lines], currency=currency),
    )
