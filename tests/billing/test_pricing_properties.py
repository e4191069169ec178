"""Properties of the pricing engine that hold for any input, checked with hypothesis."""

from dataclasses import replace
from decimal import Decimal as D
from fractions import Fraction

from babel.numbers import get_currency_precision
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from billing.pricing import (
    FREQUENCY_RULES,
    Adjustment,
    AdjustmentKind,
    DiscountType,
    Frequency,
    LineInput,
    PricingError,
    PricingModel,
    Tier,
    document_summary,
    line_result,
    validate_adjustments,
    validate_line,
)

CURRENCIES = ["EUR", "NOK", "USD", "JPY", "BHD"]  # 2, 2, 2, 0 and 3 decimals
LINE_FIELDS = ("gross", "discount", "net", "tax", "total", "mrr", "arr", "tcv", "acv", "margin")
# Each rounded once from its exact value (the rest of the summary are sums of rounded parts).
SUMMARY_ROUNDED_ONCE = (
    "gross_total",
    "discount_total",
    "subtotal",
    "one_time_subtotal",
    "recurring_subtotal",
    "mrr",
    "arr",
    "acv",
    "tcv",
    "margin",
)

# The engine is pure arithmetic, so many examples are cheap; the first example also loads the translations.
thorough = settings(deadline=None, max_examples=150)


def decimals(max_units: int, places: int) -> st.SearchStrategy[D]:
    """Non-negative Decimals up to max_units with at most `places` decimals (trailing zeros vary)."""
    return st.integers(0, max_units * 10**places).map(lambda n: D(n).scaleb(-places))


prices = decimals(10_000, 6)
quantities = decimals(1_000, 3)
tax_rates = st.sampled_from([D(0), D(9), D(12), D(15), D(21), D(25), D("12.5")])


@st.composite
def tier_tables(draw, *, integer_bounds: bool = False) -> tuple[Tier, ...]:
    count = draw(st.integers(1, 4))
    steps = draw(st.lists(st.integers(1, 40), min_size=count - 1, max_size=count - 1))
    bounds, running = [], 0
    for step in steps:
        running += step
        bounds.append(D(running) if integer_bounds else D(running) / 2)
    bounds.append(None)
    return tuple(
        Tier(bound, draw(decimals(100, 4)), draw(st.sampled_from([D(0), D(0), D("5"), D("12.345")])))
        for bound in bounds
    )


@st.composite
def terms(draw, frequency: Frequency) -> dict:
    rule = FREQUENCY_RULES[frequency]
    if rule.term_unit is None or draw(st.booleans()):
        return {}
    field = "term_weeks" if rule.term_unit == "weeks" else "term_months"
    return {field: rule.period_length * draw(st.integers(1, 12))}


@st.composite
def lines(draw, currency: str | None = None, model: PricingModel | None = None, any_discount: bool = False):
    model = model or draw(st.sampled_from(list(PricingModel)))
    frequency = draw(st.sampled_from(list(Frequency)))
    kwargs: dict = {}
    if model in (PricingModel.VOLUME, PricingModel.GRADUATED):
        kwargs["tiers"] = draw(tier_tables())
    if model == PricingModel.PACKAGE:
        kwargs["package_size"] = draw(st.sampled_from([D(1), D(5), D(10), D("2.5")]))
    unit_price = draw(prices)
    discount_type = draw(st.sampled_from([None, DiscountType.PERCENT, DiscountType.AMOUNT]))
    if discount_type == DiscountType.PERCENT:
        kwargs["discount_value"] = draw(decimals(150 if any_discount else 100, 2))
    elif discount_type == DiscountType.AMOUNT and any_discount:
        kwargs["discount_value"] = draw(decimals(20_000, 6))
    elif discount_type == DiscountType.AMOUNT:
        # At most the unit price, or for tiers the lowest tier price: never above the average price of a unit.
        ceiling = min(tier.unit_price for tier in kwargs["tiers"]) if "tiers" in kwargs else unit_price
        most = int(ceiling.scaleb(6))
        kwargs["discount_value"] = D(draw(st.just(most) | st.integers(0, most))).scaleb(-6)
    return LineInput(
        quantity=draw(quantities),
        unit_price=unit_price,
        currency=currency or draw(st.sampled_from(CURRENCIES)),
        pricing_model=model,
        discount_type=discount_type,
        tax_rate=draw(tax_rates),
        tax_label=draw(st.sampled_from(["", "VAT", "MVA"])),
        reverse_charge=draw(st.booleans()),
        frequency=frequency,
        unit_cost=draw(st.none() | prices),
        **kwargs,
        **draw(terms(frequency)),
    )


@st.composite
def documents(draw):
    currency = draw(st.sampled_from(CURRENCIES))
    document_lines = draw(st.lists(lines(currency=currency), max_size=6))
    assume(all(not validate_line(line) for line in document_lines))
    adjustments = []
    for _index in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(list(AdjustmentKind)))
        if draw(st.booleans()):
            adjustments.append(Adjustment(kind, kind.value, percent=draw(decimals(40, 3))))
        else:
            places = get_currency_precision(currency)
            adjustments.append(Adjustment(kind, kind.value, amount=draw(decimals(2_000, places))))
    return currency, document_lines, adjustments


def within_half_a_minor_unit(rounded: D, exact: Fraction, currency: str, parts: int = 1) -> bool:
    half_unit = Fraction(1, 2 * 10 ** get_currency_precision(currency))
    return abs(Fraction(rounded) - exact) <= half_unit * parts


def minor_unit(currency: str) -> D:
    return D(1).scaleb(-get_currency_precision(currency))


@thorough
@given(documents())
def test_total_is_the_sum_of_its_rounded_parts(document):
    currency, document_lines, adjustments = document
    subtotal = sum((line_result(line).exact.net for line in document_lines), Fraction(0))
    assume(not validate_adjustments(adjustments, subtotal=subtotal, currency=currency))
    summary = document_summary(document_lines, adjustments, currency=currency)

    assert summary.total == (
        summary.subtotal
        - summary.one_time_discount_total
        + summary.one_time_fee_total
        + summary.one_time_tax_total
        + summary.vat_total
    )
    assert summary.total.as_tuple().exponent == -get_currency_precision(currency)
    assert summary.vat_total == sum((group.vat for group in summary.vat_groups), D(0))
    for kind, total in [
        (AdjustmentKind.DISCOUNT, summary.one_time_discount_total),
        (AdjustmentKind.FEE, summary.one_time_fee_total),
        (AdjustmentKind.TAX, summary.one_time_tax_total),
    ]:
        assert total == sum((a.amount for a in summary.adjustments if a.kind == kind), D(0))
    # The apportioned discount adds up exactly, and every line lands in exactly one VAT group.
    assert sum(summary.apportioned_discounts, D(0)) == summary.one_time_discount_total
    assert all(share >= 0 for share in summary.apportioned_discounts)
    grouped = sorted(i for group in summary.vat_groups for i in group.line_indexes)
    assert grouped == list(range(len(document_lines)))
    assert sum((group.exact_base for group in summary.vat_groups), Fraction(0)) == (
        summary.exact.subtotal - Fraction(summary.one_time_discount_total)
    )
    # Adding rounded parts drifts at most half a minor unit per part from the exact total.
    parts = 1 + len(summary.adjustments) + len(summary.vat_groups)
    assert within_half_a_minor_unit(summary.total, summary.exact.total, currency, parts)


@thorough
@given(lines(any_discount=True))
def test_a_discount_never_makes_a_line_negative(line):
    try:
        result = line_result(line)
    except PricingError as error:
        # The engine refuses a discount above the price rather than pricing it below zero.
        assert {field for field, _message in error.errors} == {"discount_value"}
        return
    assert result.exact.discount <= result.exact.gross
    assert result.exact.net >= 0
    assert result.net >= 0 and result.total >= 0


@thorough
@given(lines())
def test_every_rounded_line_value_is_within_half_a_minor_unit(line):
    assume(not validate_line(line))
    result = line_result(line)
    for field in LINE_FIELDS:
        rounded = getattr(result, field)
        assert rounded.as_tuple().exponent == -get_currency_precision(line.currency), field
        assert within_half_a_minor_unit(rounded, getattr(result.exact, field), line.currency), field


@thorough
@given(documents())
def test_every_rounded_summary_value_is_within_half_a_minor_unit(document):
    currency, document_lines, adjustments = document
    subtotal = sum((line_result(line).exact.net for line in document_lines), Fraction(0))
    assume(not validate_adjustments(adjustments, subtotal=subtotal, currency=currency))
    summary = document_summary(document_lines, adjustments, currency=currency)
    for adjustment in summary.adjustments:
        assert within_half_a_minor_unit(adjustment.amount, adjustment.exact_amount, currency)
    for field in SUMMARY_ROUNDED_ONCE:
        assert within_half_a_minor_unit(getattr(summary, field), getattr(summary.exact, field), currency), field
    for group in summary.vat_groups:
        assert within_half_a_minor_unit(group.base, group.exact_base, currency)
        assert within_half_a_minor_unit(group.vat, group.exact_vat, currency)


@thorough
@given(lines(model=PricingModel.FLAT), st.integers(0, 50))
def test_metrics_scale_linearly_with_quantity(line, factor):
    assume(not validate_line(line))
    single = line_result(line)
    scaled = line_result(replace(line, quantity=line.quantity * factor))
    for field in LINE_FIELDS:
        assert getattr(scaled.exact, field) == getattr(single.exact, field) * factor, field
    assert scaled.payments == single.payments


def brute_force_gross(model: PricingModel, quantity: int, tiers=(), unit_price=D(0), package_size=1) -> Fraction:
    """Price unit by unit: the reference the closed-form tier formulas must agree with."""
    total = Fraction(0)
    if model == PricingModel.PACKAGE:
        for unit in range(1, quantity + 1):
            if (unit - 1) % package_size == 0:  # this unit opens a new package
                total += Fraction(unit_price)
        return total

    def tier_of(unit: int) -> int:
        return next(i for i, tier in enumerate(tiers) if tier.up_to is None or unit <= tier.up_to)

    if model == PricingModel.VOLUME:
        if quantity == 0:
            return total
        reached = tiers[tier_of(quantity)]
        for _unit in range(quantity):
            total += Fraction(reached.unit_price)
        return total + Fraction(reached.flat_fee)
    touched = set()
    for unit in range(1, quantity + 1):
        index = tier_of(unit)
        total += Fraction(tiers[index].unit_price)
        touched.add(index)
    return total + sum((Fraction(tiers[i].flat_fee) for i in touched), Fraction(0))


@thorough
@given(
    st.sampled_from([PricingModel.VOLUME, PricingModel.GRADUATED]),
    tier_tables(integer_bounds=True),
    st.integers(0, 200),
)
def test_tier_models_agree_with_unit_by_unit_pricing(model, tiers, quantity):
    line = LineInput(D(quantity), D(0), "EUR", pricing_model=model, tiers=tiers)
    assert line_result(line).exact.gross == brute_force_gross(model, quantity, tiers)


@thorough
@given(st.integers(0, 200), st.integers(1, 25), prices)
def test_package_pricing_agrees_with_unit_by_unit_pricing(quantity, package_size, unit_price):
    line = LineInput(D(quantity), unit_price, "EUR", pricing_model=PricingModel.PACKAGE, package_size=D(package_size))
    expected = brute_force_gross(PricingModel.PACKAGE, quantity, unit_price=unit_price, package_size=package_size)
    assert line_result(line).exact.gross == expected
