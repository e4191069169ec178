"""The pricing engine: line items in; line totals, document totals and contract metrics out.

Pure Python, no ORM. Every screen, PDF, invoice and subscription asks this module; nothing else computes money.

Numbers
    Inputs and rounded outputs are `Decimal`. Exact intermediate values are `fractions.Fraction` built from those
    Decimals (never from floats): the metrics divide by 3, 12, 52 or a term in years, which no Decimal can hold
    exactly, and exact rationals keep sums and scaling exact, so a value is rounded once, at the end, with
    `commerce_hub.money.quantize` (the currency's Babel precision, ROUND_HALF_UP). Every result carries `exact`
    values next to the rounded ones, so a report that adds many lines still rounds once (`round_money`).

Lines
    gross = the pricing model applied to the quantity; discount = the unit discount, capped at the gross so a line
    never goes negative; net = gross - discount; tax = net x rate (0 for reverse charge); total = net + tax.
    Recurring amounts are per billing period.

Documents
    subtotal = sum of the line nets; one-time adjustments are each a percentage of the subtotal or a fixed amount:
    discounts subtract, fees and taxes add. VAT is computed per group of lines with the same rate, label and
    reverse-charge flag, on the group's net base after the one-time discounts are apportioned to the lines, and
    rounded once per group. total = subtotal - discounts + fees + taxes + VAT, from the rounded parts, so a printed
    document always adds up.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from fractions import Fraction
from typing import Literal

from babel.numbers import get_currency_precision, is_currency
from django.utils.translation import gettext as _

from commerce_hub.money import MONEY_MAX, money_bound_text, quantize

# Unit prices, tier prices, unit costs and amount discounts keep up to this many decimals in any currency.
UNIT_PRICE_DECIMALS = 6

Number = Decimal | Fraction | int


class PricingError(ValueError):
    """Input the engine refuses to price; `errors` holds (field, message) pairs, as the validators return them."""

    def __init__(self, errors: Sequence[tuple[str, str]]):
        self.errors = list(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors))


class Frequency(StrEnum):
    ONE_TIME = "one_time"
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMIANNUAL = "semiannual"
    ANNUAL = "annual"
    BIENNIAL = "biennial"
    TRIENNIAL = "triennial"
    QUADRENNIAL = "quadrennial"
    QUINQUENNIAL = "quinquennial"

    @property
    def is_recurring(self) -> bool:
        return self != Frequency.ONE_TIME


class PricingModel(StrEnum):
    FLAT = "flat"  # quantity x unit price
    VOLUME = "volume"  # the whole quantity at the price of the tier it reaches
    GRADUATED = "graduated"  # each unit at the price of its own tier
    PACKAGE = "package"  # unit price per started block of package_size units


class DiscountType(StrEnum):
    PERCENT = "percent"  # a percentage of the price
    AMOUNT = "amount"  # an amount off per priced unit (per package for package pricing)


class AdjustmentKind(StrEnum):
    DISCOUNT = "discount"
    FEE = "fee"
    TAX = "tax"


@dataclass(frozen=True)
class FrequencyRule:
    """How a billing frequency counts: the term's unit, one period's length in it, and the metric factors."""

    term_unit: Literal["weeks", "months"] | None
    period_length: int
    periods_per_month: Fraction
    # Payments in one year, the window used when a line has no term. For the multi-year frequencies this is a
    # fraction (every two years: 1/2). HubSpot treats a line without a term as a 12-month term, and the number of
    # payments is the number of billing periods in the term: 12 months hold half of a 24-month period. With 1
    # instead, ARR and ACV would count a two-year fee as one year's revenue and disagree with MRR x 12.
    payments_per_year: Fraction


FREQUENCY_RULES: dict[Frequency, FrequencyRule] = {
    Frequency.ONE_TIME: FrequencyRule(None, 0, Fraction(0), Fraction(0)),
    # Weekly and every two weeks use HubSpot's rounded weeks per month (4.33, 2.16), not 52/12 or 26/12.
    Frequency.WEEKLY: FrequencyRule("weeks", 1, Fraction("4.33"), Fraction(52)),
    Frequency.BIWEEKLY: FrequencyRule("weeks", 2, Fraction("2.16"), Fraction(26)),
    Frequency.MONTHLY: FrequencyRule("months", 1, Fraction(1), Fraction(12)),
    Frequency.QUARTERLY: FrequencyRule("months", 3, Fraction(1, 3), Fraction(4)),
    Frequency.SEMIANNUAL: FrequencyRule("months", 6, Fraction(1, 6), Fraction(2)),
    Frequency.ANNUAL: FrequencyRule("months", 12, Fraction(1, 12), Fraction(1)),
    Frequency.BIENNIAL: FrequencyRule("months", 24, Fraction(1, 24), Fraction(1, 2)),
    Frequency.TRIENNIAL: FrequencyRule("months", 36, Fraction(1, 36), Fraction(1, 3)),
    Frequency.QUADRENNIAL: FrequencyRule("months", 48, Fraction(1, 48), Fraction(1, 4)),
    Frequency.QUINQUENNIAL: FrequencyRule("months", 60, Fraction(1, 60), Fraction(1, 5)),
}


@dataclass(frozen=True)
class Tier:
    """One price tier. `up_to` is inclusive; None means no upper limit (only the last tier)."""

    up_to: Decimal | None
    unit_price: Decimal
    flat_fee: Decimal = Decimal(0)  # added once when the quantity reaches into this tier


@dataclass(frozen=True)
class LineInput:
    quantity: Decimal
    unit_price: Decimal  # per unit; per package for package pricing; unused by volume and graduated tiers
    currency: str
    pricing_model: PricingModel = PricingModel.FLAT
    tiers: tuple[Tier, ...] = ()
    package_size: Decimal | None = None
    discount_type: DiscountType | None = None
    discount_value: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)  # percent, e.g. Decimal("21")
    tax_label: str = ""  # e.g. "VAT 21%": lines with the same rate, label and reverse charge share a VAT group
    reverse_charge: bool = False  # the buyer accounts for the VAT: 0% on this line, and the document says so
    frequency: Frequency = Frequency.ONE_TIME
    term_months: int | None = None  # for the monthly to five-yearly frequencies
    term_weeks: int | None = None  # for weekly and every two weeks
    unit_cost: Decimal | None = None  # None counts as zero cost


@dataclass(frozen=True)
class Adjustment:
    """A one-time summary discount, fee or tax: a percentage of the subtotal or a fixed amount."""

    kind: AdjustmentKind
    label: str
    percent: Decimal | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class LineExact:
    gross: Fraction
    discount: Fraction
    net: Fraction
    tax: Fraction
    total: Fraction
    mrr: Fraction
    arr: Fraction
    tcv: Fraction
    acv: Fraction
    margin: Fraction


@dataclass(frozen=True)
class LineResult:
    """One line priced. Money fields are rounded once each from `exact`; recurring amounts are per period."""

    line: LineInput
    gross: Decimal
    discount: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal
    mrr: Decimal
    arr: Decimal
    tcv: Decimal
    acv: Decimal
    margin: Decimal
    # Billing periods in the term (without a term: in one year, so 1/2 for every two years); 1 for one-time.
    payments: Fraction
    # Invoices the line produces: 1 for one-time, the periods in the term, or None when it runs until cancelled.
    invoice_count: int | None
    billed_units: Fraction  # the units an amount discount applies to: the quantity, or the packages
    exact: LineExact

    @property
    def is_recurring(self) -> bool:
        return Frequency(self.line.frequency).is_recurring


@dataclass(frozen=True)
class AppliedAdjustment:
    kind: AdjustmentKind
    label: str
    percent: Decimal | None
    amount: Decimal  # rounded, always positive: a discount is subtracted, a fee or tax added
    exact_amount: Fraction


@dataclass(frozen=True)
class VatGroup:
    rate: Decimal  # 0 for reverse charge, whatever rate the lines carry
    label: str
    reverse_charge: bool
    base: Decimal
    vat: Decimal
    exact_base: Fraction
    exact_vat: Fraction
    line_indexes: tuple[int, ...]


@dataclass(frozen=True)
class DocumentExact:
    gross_total: Fraction
    discount_total: Fraction
    subtotal: Fraction
    one_time_subtotal: Fraction
    recurring_subtotal: Fraction
    one_time_discount_total: Fraction
    one_time_fee_total: Fraction
    one_time_tax_total: Fraction
    vat_total: Fraction
    total: Fraction
    mrr: Fraction
    arr: Fraction
    acv: Fraction
    tcv: Fraction
    margin: Fraction


@dataclass(frozen=True)
class DocumentSummary:
    """A document priced.

    Rounded once from its exact value: gross_total, discount_total (the lines' unit discounts), subtotal,
    one_time_subtotal, recurring_subtotal, each adjustment, each VAT group's base and VAT, and the metrics.
    Sums of rounded parts, so the printed document adds up: the one_time_* totals, vat_total and total.
    The metrics come from the lines alone: one-time adjustments do not change MRR, ARR, ACV, TCV or margin.
    """

    currency: str
    lines: tuple[LineResult, ...]
    gross_total: Decimal
    discount_total: Decimal
    subtotal: Decimal
    one_time_subtotal: Decimal
    recurring_subtotal: Decimal
    adjustments: tuple[AppliedAdjustment, ...]
    one_time_discount_total: Decimal
    one_time_fee_total: Decimal
    one_time_tax_total: Decimal
    # The one-time discounts' share of each line (same order as `lines`), in the currency's minor units; they
    # add up to one_time_discount_total exactly. Also what a UBL invoice needs per VAT category.
    apportioned_discounts: tuple[Decimal, ...]
    vat_groups: tuple[VatGroup, ...]
    vat_total: Decimal
    total: Decimal
    mrr: Decimal
    arr: Decimal
    acv: Decimal
    tcv: Decimal
    margin: Decimal
    reverse_charge: bool  # some line is reverse charge: the invoice must print the legal mention
    exact: DocumentExact


# --- numbers ---------------------------------------------------------------------------------------------------


def _fraction(value: Number) -> Fraction:
    if isinstance(value, float):
        raise TypeError("money is Decimal, never float")
    return Fraction(value)


def round_money(value: Number, currency: str) -> Decimal:
    """Round an exact value to the currency's minor unit, half up: the one rounding step of every money value."""
    exact = _fraction(value)
    integer_digits = len(str(abs(exact.numerator) // exact.denominator))
    with localcontext() as ctx:
        # Truncating far below the minor unit cannot move a value across a half-way point, so the half-up
        # rounding that follows gives the same result as rounding the exact rational.
        ctx.prec = integer_digits + 40
        ctx.rounding = ROUND_DOWN
        approx = Decimal(exact.numerator) / Decimal(exact.denominator)
    rounded = quantize(approx, currency)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def _decimal_places(value: Decimal | int) -> int:
    if isinstance(value, int):
        return 0
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _is_number(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, Decimal) and value.is_finite()


# --- lines -----------------------------------------------------------------------------------------------------


def frequency_rule(frequency: Frequency | str) -> FrequencyRule:
    return FREQUENCY_RULES[Frequency(frequency)]


def _gross(line: LineInput) -> tuple[Fraction, Fraction]:
    """The line's price before discount, and the units an amount discount applies to."""
    quantity = _fraction(line.quantity)
    model = PricingModel(line.pricing_model)
    if model == PricingModel.FLAT:
        return quantity * _fraction(line.unit_price), quantity
    if model == PricingModel.PACKAGE:
        # A started package is a whole package: 11 units in packages of 5 are 3 packages.
        packages = Fraction(math.ceil(quantity / _fraction(line.package_size)))
        return packages * _fraction(line.unit_price), packages
    if quantity == 0:
        return Fraction(0), quantity  # nothing sold: no tier is reached, so no flat fee either
    if model == PricingModel.VOLUME:
        for tier in line.tiers:
            if tier.up_to is None or quantity <= _fraction(tier.up_to):
                return quantity * _fraction(tier.unit_price) + _fraction(tier.flat_fee), quantity
        raise PricingError([("tiers", _("The last tier, and only the last, has no upper limit."))])
    gross, lower = Fraction(0), Fraction(0)
    for tier in line.tiers:
        upper = quantity if tier.up_to is None else min(quantity, _fraction(tier.up_to))
        if upper <= lower:
            break
        gross += (upper - lower) * _fraction(tier.unit_price) + _fraction(tier.flat_fee)
        if tier.up_to is None:
            break
        lower = upper
    return gross, quantity


def _unit_discount(line: LineInput, gross: Fraction, billed_units: Fraction) -> Fraction:
    if line.discount_type is None:
        return Fraction(0)
    value = _fraction(line.discount_value)
    percent = DiscountType(line.discount_type) == DiscountType.PERCENT
    discount = gross * value / 100 if percent else value * billed_units
    # Validation refuses a discount above the price; the cap is the invariant that a line is never negative.
    return max(Fraction(0), min(discount, gross))


def _term(line: LineInput, rule: FrequencyRule) -> int | None:
    return line.term_weeks if rule.term_unit == "weeks" else line.term_months


def _line_exact(line: LineInput) -> tuple[LineExact, Fraction, int | None, Fraction]:
    gross, billed_units = _gross(line)
    discount = _unit_discount(line, gross, billed_units)
    net = gross - discount
    tax_rate = Fraction(0) if line.reverse_charge else _fraction(line.tax_rate)
    tax = net * tax_rate / 100
    cost = Fraction(0) if line.unit_cost is None else _fraction(line.unit_cost) * _fraction(line.quantity)

    rule = frequency_rule(line.frequency)
    zero = Fraction(0)
    if rule.term_unit is None:
        payments, invoice_count = Fraction(1), 1
        mrr, arr, tcv, acv = zero, zero, net, net
    else:
        term = _term(line, rule)
        if term is None:
            # No term: one year, as HubSpot assumes a 12-month term.
            payments, first_year, invoice_count, term_years = rule.payments_per_year, rule.payments_per_year, None, None
        else:
            payments = Fraction(term, rule.period_length)
            first_year = min(payments, rule.payments_per_year)
            invoice_count = math.ceil(payments)
            term_years = Fraction(term, 52 if rule.term_unit == "weeks" else 12)
        mrr = net * rule.periods_per_month
        arr = net * first_year
        tcv = net * payments
        acv = tcv if term_years is None or term_years <= 1 else tcv / term_years
    exact = LineExact(
        gross=gross,
        discount=discount,
        net=net,
        tax=tax,
        total=net + tax,
        mrr=mrr,
        arr=arr,
        tcv=tcv,
        acv=acv,
        margin=net - cost,
    )
    return exact, payments, invoice_count, billed_units


def _line_result(line: LineInput) -> LineResult:
    exact, payments, invoice_count, billed_units = _line_exact(line)

    def r(value: Fraction) -> Decimal:
        return round_money(value, line.currency)

    return LineResult(
        line=line,
        gross=r(exact.gross),
        discount=r(exact.discount),
        net=r(exact.net),
        tax=r(exact.tax),
        total=r(exact.total),
        mrr=r(exact.mrr),
        arr=r(exact.arr),
        tcv=r(exact.tcv),
        acv=r(exact.acv),
        margin=r(exact.margin),
        payments=payments,
        invoice_count=invoice_count,
        billed_units=billed_units,
        exact=exact,
    )


def line_result(line: LineInput) -> LineResult:
    """Price one line; raises PricingError with validate_line's messages when the line is not valid.

    Metrics (HubSpot's definitions, on the net amount of one billing period):
    - MRR = net x periods per month (weekly 4.33, every two weeks 2.16, else 1, 1/3, 1/6, 1/12, ... 1/60).
    - payments = billing periods in the term; without a term, in one year (52, 26, 12, 4, 2, 1, 1/2 ... 1/5).
    - ARR = net x payments in the first twelve months (52 weeks); TCV = net x payments (one-time: net).
    - ACV = TCV for a term of at most twelve months (52 weeks) or no term, else TCV / the term in years.
    - margin = net - unit cost x quantity.
    """
    errors = validate_line(line)
    if errors:
        raise PricingError(errors)
    return _line_result(line)


def validate_line(line: LineInput) -> list[tuple[str, str]]:
    """Every problem with a line, as (field, message) pairs for the form; empty when the engine can price it."""
    errors: list[tuple[str, str]] = []

    def check(
        field: str, value: object, negative: str, *, decimals: int | None = UNIT_PRICE_DECIMALS, optional=False
    ) -> bool:
        if value is None and optional:
            return True
        if not _is_number(value):
            errors.append((field, _("Enter a number.")))
            return False
        if value < 0:
            errors.append((field, negative))
            return False
        if decimals is not None and _decimal_places(value) > decimals:
            errors.append((field, _("Use at most %(count)d decimals.") % {"count": decimals}))
            return False
        return True

    if not isinstance(line.currency, str) or not is_currency(line.currency):
        errors.append(("currency", _("Unknown currency.")))
    priceable = check("quantity", line.quantity, _("The quantity cannot be negative."), decimals=None)
    model = PricingModel(line.pricing_model)
    if model in (PricingModel.FLAT, PricingModel.PACKAGE):
        priceable &= check("unit_price", line.unit_price, _("The unit price cannot be negative."))
    if model == PricingModel.PACKAGE:
        size = line.package_size
        if size is None or not _is_number(size) or size <= 0:
            errors.append(("package_size", _("The package size must be more than zero.")))
            priceable = False
    if model in (PricingModel.VOLUME, PricingModel.GRADUATED):
        priceable &= _validate_tiers(line.tiers, errors, check)

    if line.discount_type is None:
        if line.discount_value:
            errors.append(("discount_type", _("Choose whether the discount is a percentage or an amount.")))
    elif check("discount_value", line.discount_value, _("The discount cannot be negative.")):
        value = line.discount_value
        if DiscountType(line.discount_type) == DiscountType.PERCENT:
            if value > 100:
                errors.append(("discount_value", _("A percentage discount cannot be more than 100%.")))
        elif model in (PricingModel.FLAT, PricingModel.PACKAGE):
            if priceable and value > line.unit_price:
                errors.append(("discount_value", _("The discount is more than the price.")))
        elif priceable:
            # Tiers have no single unit price: the discount per unit may not exceed the average price per unit.
            gross, units = _gross(line)
            if _fraction(value) * units > gross:
                errors.append(("discount_value", _("The discount is more than the price.")))

    tax_rate_message = _("The tax rate must be between 0% and 100%.")
    if check("tax_rate", line.tax_rate, tax_rate_message, decimals=None) and line.tax_rate > 100:
        errors.append(("tax_rate", tax_rate_message))
    check("unit_cost", line.unit_cost, _("The unit cost cannot be negative."), optional=True)
    _validate_term(line, errors)
    if priceable and not errors and _gross(line)[0] > MONEY_MAX:
        # Every amount has one upper bound (commerce_hub.money.MONEY_MAX); a line's price is where it is first
        # exceeded, so the line says so rather than a total, a column or a deal amount later.
        errors.append(("total", _("This line comes to %(bound)s or more; lower the quantity or the price.") % _bound()))
    return errors


def _bound() -> dict[str, str]:
    return {"bound": money_bound_text()}


def _validate_tiers(tiers: Sequence[Tier], errors: list[tuple[str, str]], check) -> bool:
    if not tiers:
        errors.append(("tiers", _("Add at least one tier.")))
        return False
    valid = True
    for tier in tiers:
        valid &= check("tiers", tier.unit_price, _("A tier price cannot be negative."))
        valid &= check("tiers", tier.flat_fee, _("A tier price cannot be negative."))
    bounds = [tier.up_to for tier in tiers]
    if bounds[-1] is not None or any(bound is None for bound in bounds[:-1]):
        errors.append(("tiers", _("The last tier, and only the last, has no upper limit.")))
        return False
    previous = Decimal(0)
    for bound in bounds[:-1]:
        if not _is_number(bound) or bound <= previous:
            errors.append(("tiers", _("Each tier must end above the one before it.")))
            return False
        previous = bound
    return valid


def _validate_term(line: LineInput, errors: list[tuple[str, str]]) -> None:
    rule = frequency_rule(line.frequency)
    if rule.term_unit is None:
        for field in ("term_months", "term_weeks"):
            if getattr(line, field) is not None:
                errors.append((field, _("A one-time line has no term.")))
        return
    if rule.term_unit == "weeks":
        field, wrong = "term_weeks", "term_months"
        wrong_message = _("Give the term of a weekly or two-weekly line in weeks.")
        multiple_message = _("The term must be a multiple of %(count)d weeks.")
    else:
        field, wrong = "term_months", "term_weeks"
        wrong_message = _("Give the term of this billing frequency in months.")
        multiple_message = _("The term must be a multiple of %(count)d months.")
    if getattr(line, wrong) is not None:
        errors.append((wrong, wrong_message))
    term = getattr(line, field)
    if term is None:
        return
    if isinstance(term, bool) or not isinstance(term, int):
        errors.append((field, _("Enter a whole number.")))
    elif term < rule.period_length:
        errors.append((field, _("The term is shorter than one billing period.")))
    elif term % rule.period_length:
        # HubSpot's rule too: a term is whole billing periods, so every payment is a full one.
        errors.append((field, multiple_message % {"count": rule.period_length}))


# --- bundles ---------------------------------------------------------------------------------------------------


def bundle_unit_price(
    components: Sequence[tuple[Decimal, Decimal]],
    *,
    mode: Literal["whole", "sum"],
    whole_price: Decimal | None = None,
) -> Decimal:
    """The unit price of a bundle made of (quantity, unit price) components.

    "whole": the bundle has a price of its own (whole_price) and the components only describe it.
    "sum": the sum of quantity x unit price over the components, kept to the unit-price precision (6 decimals,
    half up, only when fractional component quantities produce more).
    """
    errors: list[tuple[str, str]] = []
    for quantity, price in components:
        if not (_is_number(quantity) and _is_number(price)) or quantity < 0 or price < 0:
            errors.append(("components", _("A component's quantity and price cannot be negative.")))
            break
    if mode == "whole":
        if whole_price is None:
            errors.append(("whole_price", _("Enter the price of the bundle.")))
        elif not _is_number(whole_price) or whole_price < 0:
            errors.append(("whole_price", _("The unit price cannot be negative.")))
        elif _decimal_places(whole_price) > UNIT_PRICE_DECIMALS:
            errors.append(("whole_price", _("Use at most %(count)d decimals.") % {"count": UNIT_PRICE_DECIMALS}))
    elif mode == "sum":
        if whole_price is not None:
            errors.append(("whole_price", _("A bundle priced as the sum of its parts has no price of its own.")))
        if not components:
            errors.append(("components", _("Add at least one component.")))
    else:
        raise ValueError(f"unknown bundle pricing mode {mode!r}")
    if errors:
        raise PricingError(errors)
    if mode == "whole":
        return Decimal(whole_price)
    total = sum((_fraction(quantity) * _fraction(price) for quantity, price in components), Fraction(0))
    with localcontext() as ctx:
        ctx.prec = 100  # products of Decimals terminate, so this division is exact
        price = Decimal(total.numerator) / Decimal(total.denominator)
        if _decimal_places(price) > UNIT_PRICE_DECIMALS:
            price = price.quantize(Decimal(1).scaleb(-UNIT_PRICE_DECIMALS), rounding=ROUND_HALF_UP)
    return price


# --- documents -------------------------------------------------------------------------------------------------


def _adjustment_amount(adjustment: Adjustment, subtotal: Fraction) -> Fraction:
    if adjustment.percent is not None:
        return subtotal * _fraction(adjustment.percent) / 100
    return _fraction(adjustment.amount or 0)


def validate_adjustments(
    adjustments: Sequence[Adjustment], *, subtotal: Number, currency: str
) -> list[tuple[int, str, str]]:
    """Every problem with the one-time adjustments, as (index, field, message).

    `subtotal` is the document's subtotal (exact or rounded); discounts, alone or together, may not exceed it.
    """
    errors: list[tuple[int, str, str]] = []
    exact_subtotal = _fraction(subtotal)
    rounded_subtotal = round_money(exact_subtotal, currency)
    places = get_currency_precision(currency)
    discounts = Decimal(0)
    for index, adjustment in enumerate(adjustments):
        if not adjustment.label.strip():
            errors.append((index, "label", _("Enter a label.")))
        if (adjustment.percent is None) == (adjustment.amount is None):
            errors.append((index, "amount", _("Enter either a percentage or an amount.")))
            continue
        field = "percent" if adjustment.percent is not None else "amount"
        value = adjustment.percent if adjustment.percent is not None else adjustment.amount
        is_discount = AdjustmentKind(adjustment.kind) == AdjustmentKind.DISCOUNT
        if not _is_number(value):
            errors.append((index, field, _("Enter a number.")))
            continue
        if value < 0:
            negative = (
                _("The percentage cannot be negative.") if field == "percent" else _("The amount cannot be negative.")
            )
            errors.append((index, field, negative))
            continue
        if field == "percent" and is_discount and value > 100:
            errors.append((index, field, _("A percentage discount cannot be more than 100%.")))
            continue
        if field == "amount" and _decimal_places(value) > places:
            if places:
                errors.append((index, field, _("Use at most %(count)d decimals.") % {"count": places}))
            else:
                errors.append((index, field, _("Enter a whole amount.")))
            continue
        if not is_discount:
            continue
        amount = round_money(_adjustment_amount(adjustment, exact_subtotal), currency)
        if field == "amount" and amount > rounded_subtotal:
            errors.append((index, field, _("The discount is more than the subtotal.")))
            continue
        discounts += amount
        if discounts > rounded_subtotal:
            errors.append((index, field, _("Together, the discounts are more than the subtotal.")))
    return errors


def _apportion(amount: Decimal, weights: Sequence[Fraction], currency: str) -> tuple[Decimal, ...]:
    """Split a rounded amount over the lines pro rata to their net amounts, in whole minor units.

    Each share is rounded down to the minor unit; the leftover (fewer minor units than there are lines) goes to
    the line with the largest net amount (the first of equals), so the shares add up to the amount exactly.
    """
    places = get_currency_precision(currency)
    units = int(amount.scaleb(places))
    total_weight = sum(weights, Fraction(0))
    if not weights:
        return ()
    if units == 0 or total_weight == 0:
        return tuple(Decimal(0).scaleb(-places) for _weight in weights)
    parts = [int(units * weight // total_weight) for weight in weights]
    largest = max(range(len(weights)), key=weights.__getitem__)
    parts[largest] += units - sum(parts)
    return tuple(Decimal(part).scaleb(-places) for part in parts)


def document_summary(
    lines: Sequence[LineInput], adjustments: Sequence[Adjustment] = (), *, currency: str
) -> DocumentSummary:
    """Price a document: its lines, one-time adjustments, VAT per group, total and contract metrics.

    Raises PricingError when a line or adjustment is not valid, or a line is in another currency; fields are
    named "lines[i].<field>" and "adjustments[i].<field>".
    """
    errors: list[tuple[str, str]] = []
    if not is_currency(currency):
        errors.append(("currency", _("Unknown currency.")))
    for index, line in enumerate(lines):
        errors += [(f"lines[{index}].{field}", message) for field, message in validate_line(line)]
        if line.currency != currency:
            errors.append((f"lines[{index}].currency", _("Every line must be in the document's currency.")))
    if errors:
        raise PricingError(errors)

    results = tuple(_line_result(line) for line in lines)

    def total_of(attribute: str, only=lambda result: True) -> Fraction:
        return sum((getattr(r.exact, attribute) for r in results if only(r)), Fraction(0))

    def r(value: Fraction) -> Decimal:
        return round_money(value, currency)

    subtotal = total_of("net")
    adjustment_errors = validate_adjustments(adjustments, subtotal=subtotal, currency=currency)
    if adjustment_errors:
        raise PricingError([(f"adjustments[{index}].{field}", message) for index, field, message in adjustment_errors])
    applied = tuple(
        AppliedAdjustment(
            kind=AdjustmentKind(adjustment.kind),
            label=adjustment.label,
            percent=adjustment.percent,
            amount=r(_adjustment_amount(adjustment, subtotal)),
            exact_amount=_adjustment_amount(adjustment, subtotal),
        )
        for adjustment in adjustments
    )

    def adjustments_of(kind: AdjustmentKind) -> tuple[Decimal, Fraction]:
        chosen = [a for a in applied if a.kind == kind]
        return sum((a.amount for a in chosen), Decimal(0)), sum((a.exact_amount for a in chosen), Fraction(0))

    discount_total, discount_exact = adjustments_of(AdjustmentKind.DISCOUNT)
    fee_total, fee_exact = adjustments_of(AdjustmentKind.FEE)
    tax_total, tax_exact = adjustments_of(AdjustmentKind.TAX)
    discount_total, fee_total, tax_total = (r(value) for value in (discount_total, fee_total, tax_total))

    # One-time discounts lower the VAT base of every line pro rata; fees and one-time taxes are outside VAT
    # (a fee that carries VAT belongs on a line of its own).
    shares = _apportion(discount_total, [result.exact.net for result in results], currency)
    groups: dict[tuple[Decimal, str, bool], list[int]] = {}
    for index, line in enumerate(lines):
        rate = Decimal(0) if line.reverse_charge else line.tax_rate
        groups.setdefault((rate, line.tax_label, bool(line.reverse_charge)), []).append(index)
    vat_groups = []
    for (rate, label, reverse_charge), indexes in groups.items():
        base = sum((results[i].exact.net - _fraction(shares[i]) for i in indexes), Fraction(0))
        vat = base * _fraction(rate) / 100
        vat_groups.append(VatGroup(rate, label, reverse_charge, r(base), r(vat), base, vat, tuple(indexes)))
    vat_groups.sort(key=lambda group: (group.reverse_charge, -group.rate, group.label))
    vat_total = sum((group.vat for group in vat_groups), r(Fraction(0)))
    vat_exact = sum((group.exact_vat for group in vat_groups), Fraction(0))

    exact = DocumentExact(
        gross_total=total_of("gross"),
        discount_total=total_of("discount"),
        subtotal=subtotal,
        one_time_subtotal=total_of("net", lambda result: not result.is_recurring),
        recurring_subtotal=total_of("net", lambda result: result.is_recurring),
        one_time_discount_total=discount_exact,
        one_time_fee_total=fee_exact,
        one_time_tax_total=tax_exact,
        vat_total=vat_exact,
        total=subtotal - discount_exact + fee_exact + tax_exact + vat_exact,
        mrr=total_of("mrr"),
        arr=total_of("arr"),
        acv=total_of("acv"),
        tcv=total_of("tcv"),
        margin=total_of("margin"),
    )
    rounded_subtotal = r(subtotal)
    total = rounded_subtotal - discount_total + fee_total + tax_total + vat_total
    if max(abs(exact.gross_total), abs(exact.total), abs(total)) > MONEY_MAX:
        # Lines within the bound can still add up beyond it; a document total must fit every column it reaches.
        message = _("The document comes to %(bound)s or more; split it over several documents.") % _bound()
        raise PricingError([("total", message)])
    return DocumentSummary(
        currency=currency,
        lines=results,
        gross_total=r(exact.gross_total),
        discount_total=r(exact.discount_total),
        subtotal=rounded_subtotal,
        one_time_subtotal=r(exact.one_time_subtotal),
        recurring_subtotal=r(exact.recurring_subtotal),
        adjustments=applied,
        one_time_discount_total=discount_total,
        one_time_fee_total=fee_total,
        one_time_tax_total=tax_total,
        apportioned_discounts=shares,
        vat_groups=tuple(vat_groups),
        vat_total=vat_total,
        total=total,
        mrr=r(exact.mrr),
        arr=r(exact.arr),
        acv=r(exact.acv),
        tcv=r(exact.tcv),
        margin=r(exact.margin),
        reverse_charge=any(line.reverse_charge for line in lines),
        exact=exact,
    )


# --- credit notes and late fees ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditItem:
    """What one credit note line takes back before VAT: a rounded net amount at the VAT of the invoice it credits."""

    net: Decimal
    tax_rate: Decimal
    tax_label: str = ""
    reverse_charge: bool = False


@dataclass(frozen=True)
class CreditSummary:
    currency: str
    items: tuple[CreditItem, ...]
    vat_groups: tuple[VatGroup, ...]
    subtotal: Decimal
    vat_total: Decimal
    total: Decimal


def credit_line_net(
    *, base: Decimal, quantity: Decimal, of_quantity: Decimal, currency: str, already: Decimal = Decimal(0)
) -> Decimal:
    """The net credited for `quantity` more of an invoice line's `of_quantity` units whose VAT base was `base`,
    when `already` units were credited before.

    Rounded cumulatively (the share of everything credited so far, minus the share credited before), so crediting
    a line in parts always adds up to its base exactly: thirds of 100.00 are 33.33, 33.34 and 33.33.
    """
    if of_quantity <= 0:
        return base

    def share(units: Decimal) -> Decimal:
        if units >= of_quantity:
            return base
        return round_money(_fraction(base) * _fraction(units) / _fraction(of_quantity), currency)

    return share(already + quantity) - share(already)


def credit_summary(items: Sequence[CreditItem], *, currency: str) -> CreditSummary:
    """Price a credit note: VAT per group of items with the same rate, label and reverse charge, rounded once per
    group like an invoice, so crediting every line of an invoice in full gives back exactly its VAT."""
    groups: dict[tuple[Decimal, str, bool], list[int]] = {}
    for index, item in enumerate(items):
        if item.net <= 0:
            raise PricingError([(f"items[{index}].net", _("Enter an amount above zero."))])
        rate = Decimal(0) if item.reverse_charge else item.tax_rate
        groups.setdefault((rate, item.tax_label, item.reverse_charge), []).append(index)
    vat_groups = []
    for (rate, label, reverse_charge), indexes in groups.items():
        base = sum((_fraction(items[i].net) for i in indexes), Fraction(0))
        vat = base * _fraction(rate) / 100
        vat_groups.append(
            VatGroup(
                rate,
                label,
                reverse_charge,
                round_money(base, currency),
                round_money(vat, currency),
                base,
                vat,
                tuple(indexes),
            )
        )
    vat_groups.sort(key=lambda group: (group.reverse_charge, -group.rate, group.label))
    subtotal = sum((item.net for item in items), round_money(0, currency))
    vat_total = sum((group.vat for group in vat_groups), round_money(0, currency))
    return CreditSummary(
        currency=currency,
        items=tuple(items),
        vat_groups=tuple(vat_groups),
        subtotal=subtotal,
        vat_total=vat_total,
        total=subtotal + vat_total,
    )


def credit_mirror(
    *,
    items: Sequence[CreditItem],
    vat_groups: Sequence[tuple[Decimal, str, bool, Decimal, Decimal]],
    total: Decimal,
    currency: str,
) -> tuple[tuple[CreditItem, ...], CreditSummary]:
    """A credit note of a whole invoice: exactly the invoice's own VAT groups (rate, label, reverse charge, base,
    VAT) and total, one-time fees and taxes included, not a re-pricing of its lines that could differ in the last
    cent. What the line items do not cover (fees, one-time taxes, rounding) becomes one more item without VAT."""
    vat_total = sum((group[4] for group in vat_groups), round_money(0, currency))
    subtotal = total - vat_total
    rest = subtotal - sum((item.net for item in items), Decimal(0))
    items = tuple(items) + ((CreditItem(rest, Decimal(0)),) if rest else ())
    groups = tuple(
        VatGroup(rate, label, reverse, base, vat, _fraction(base), _fraction(vat), ())
        for rate, label, reverse, base, vat in vat_groups
    )
    return items, CreditSummary(currency, items, groups, subtotal, vat_total, total)


def late_interest(*, amount: Decimal, yearly_rate: Decimal, days: int, currency: str) -> Decimal:
    """Simple statutory interest on an overdue amount: amount x rate% x days / 365, rounded once."""
    if days <= 0 or amount <= 0 or yearly_rate <= 0:
        return round_money(0, currency)
    return round_money(_fraction(amount) * _fraction(yearly_rate) / 100 * days / 365, currency)


def average_unit_price(*, gross: Decimal, quantity: Decimal) -> Decimal | None:
    """What one unit cost on average under tiered pricing (printed where an invoice needs a unit price), to the
    six decimals unit prices keep; None for a zero quantity."""
    if quantity <= 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 40
        return (gross / quantity).quantize(Decimal(1).scaleb(-UNIT_PRICE_DECIMALS), rounding=ROUND_HALF_UP)
