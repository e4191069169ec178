"""Properties of money where it is added up, checked with hypothesis: rounding to Babel's precision, sums of Money,
the upper bound of every amount and the columns that hold sums of many amounts."""

from decimal import Decimal as D

from babel.numbers import get_currency_precision
from djmoney.money import Money
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.pricing import LineInput, PricingError, document_summary, validate_line
from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX, MONEY_MAX_DIGITS, money, money_in_bounds, quantize

CURRENCIES = ["EUR", "NOK", "JPY", "KWD", "BHD", "CLF"]  # 2, 2, 0, 3, 3 and 4 decimals
COLUMN_MAX = D(10) ** (MONEY_MAX_DIGITS - MONEY_DECIMAL_PLACES) - D(1).scaleb(-MONEY_DECIMAL_PLACES)
thorough = settings(deadline=None, max_examples=150)

amounts = st.integers(0, int(MONEY_MAX * 10**4)).map(lambda n: D(n).scaleb(-4))


@thorough
@given(amount=amounts, currency=st.sampled_from(CURRENCIES))
def test_quantize_keeps_the_currencys_decimals_and_moves_less_than_half_a_unit(amount, currency):
    places = get_currency_precision(currency)
    rounded = quantize(amount, currency)
    assert rounded.as_tuple().exponent == -places
    assert abs(rounded - amount) <= D(1).scaleb(-places) / 2
    # Every rounded amount fits a stored column exactly: 4 decimals hold every ISO 4217 minor unit.
    assert rounded == rounded.quantize(D(1).scaleb(-MONEY_DECIMAL_PLACES))


@thorough
@given(parts=st.lists(amounts, min_size=1, max_size=50), currency=st.sampled_from(CURRENCIES))
def test_money_adds_up_exactly_and_sums_of_bounded_amounts_fit_the_columns(parts, currency):
    total = sum((money(part, currency) for part in parts), Money(0, currency))
    assert total.amount == sum(quantize(part, currency) for part in parts)
    assert total.amount.as_tuple().exponent >= -MONEY_DECIMAL_PLACES
    # 10,000 amounts at the bound still fit numeric(20, 4); 50 certainly do.
    assert abs(total.amount) <= COLUMN_MAX


@thorough
@given(
    quantity=st.integers(0, 10**7).map(D),
    unit_price=st.integers(0, 10**14).map(lambda n: D(n).scaleb(-2)),
    currency=st.sampled_from(CURRENCIES),
)
def test_a_line_is_refused_exactly_when_its_price_reaches_the_bound(quantity, unit_price, currency):
    line = LineInput(quantity=quantity, unit_price=unit_price, currency=currency)
    assert ("total" in dict(validate_line(line))) == (quantity * unit_price > MONEY_MAX)


@thorough
@given(
    prices=st.lists(st.integers(0, 10**12).map(D), min_size=1, max_size=12),
    currency=st.sampled_from(CURRENCIES),
)
def test_a_document_that_prices_has_every_total_within_the_bound(prices, currency):
    lines = [LineInput(quantity=D(1), unit_price=price, currency=currency, tax_rate=D(21)) for price in prices]
    try:
        summary = document_summary(lines, currency=currency)
    except PricingError as error:
        assert {field for field, _message in error.errors} <= {"total", *(f"lines[{i}].total" for i in range(12))}
        assert sum(prices) * D("1.21") > MONEY_MAX
        return
    for value in (summary.subtotal, summary.vat_total, summary.total):
        assert money_in_bounds(value)
    assert summary.total == summary.subtotal + summary.vat_total
