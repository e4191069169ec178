"""Proration arithmetic (billing/proration.py): exact day counts, the engine's rounding, and the two rules that keep
it honest: an unchanged subscription nets to zero, and a credit never exceeds what the period billed."""

from datetime import date, timedelta
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from billing import pricing
from billing.proration import period_days, proration


def line(quantity="1", price="100.00", rate="21", currency="EUR", **extra):
    return pricing.LineInput(
        quantity=D(quantity),
        unit_price=D(price),
        currency=currency,
        tax_rate=D(rate),
        tax_label=f"VAT {rate}%",
        frequency=pricing.Frequency.MONTHLY,
        **extra,
    )


def test_days_left_count_the_change_day_and_the_last_day():
    assert period_days(period_start=date(2027, 1, 1), period_end=date(2027, 1, 31), on=date(2027, 1, 15)) == (17, 31)
    assert period_days(period_start=date(2028, 2, 1), period_end=date(2028, 2, 29), on=date(2028, 2, 29)) == (1, 29)
    assert period_days(period_start=date(2027, 2, 1), period_end=date(2027, 2, 28), on=date(2027, 2, 1)) == (28, 28)
    assert period_days(period_start=date(2027, 2, 1), period_end=date(2027, 2, 28), on=date(2027, 3, 1)) == (0, 28)


def test_doubling_the_quantity_mid_month_credits_17_31sts_and_charges_twice_that():
    result = proration(
        old=[("Hosting", line())],
        new=[("Hosting", line(quantity="2"))],
        period_start=date(2027, 1, 1),
        period_end=date(2027, 1, 31),
        on=date(2027, 1, 15),
        currency="EUR",
    )
    # 100.00 x 17/31 = 54.8387 -> 54.84 net, 11.52 VAT; 200.00 x 17/31 = 109.6774 -> 109.68 net, 23.03 VAT
    assert (result.credit.subtotal, result.credit.vat_total, result.credit.total) == (
        D("54.84"),
        D("11.52"),
        D("66.36"),
    )
    assert (result.charge.subtotal, result.charge.vat_total, result.charge.total) == (
        D("109.68"),
        D("23.03"),
        D("132.71"),
    )
    assert result.net == D("66.35")


def test_a_percentage_coupon_is_prorated_with_the_lines():
    result = proration(
        old=[("Hosting", line(rate="0"))],
        new=[],
        period_start=date(2027, 4, 1),
        period_end=date(2027, 4, 30),
        on=date(2027, 4, 21),
        currency="EUR",
        percent_off=D("25"),
    )
    assert result.credit.total == D("25.00")  # 100 x 0.75 x 10/30


def test_nok_and_three_decimal_currencies_round_to_their_own_minor_unit():
    nok = proration(
        old=[("Lisens", line(price="999", rate="25", currency="NOK"))],
        new=[],
        period_start=date(2027, 1, 1),
        period_end=date(2027, 1, 31),
        on=date(2027, 1, 30),
        currency="NOK",
    )
    assert nok.credit.subtotal == D("64.45")  # 999 x 2/31 = 64.4516
    kwd = proration(
        old=[("Plan", line(price="10", rate="0", currency="KWD"))],
        new=[],
        period_start=date(2027, 1, 1),
        period_end=date(2027, 1, 31),
        on=date(2027, 1, 30),
        currency="KWD",
    )
    assert kwd.credit.total == D("0.645")


amounts = st.decimals(min_value=D("0"), max_value=D("100000"), places=2, allow_nan=False, allow_infinity=False)
quantities = st.decimals(min_value=D("0.5"), max_value=D("1000"), places=1, allow_nan=False, allow_infinity=False)
rates = st.sampled_from([D("0"), D("9"), D("12"), D("15"), D("21"), D("25")])
lines = st.lists(st.tuples(quantities, amounts, rates), min_size=1, max_size=5)
periods = st.tuples(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)), st.integers(min_value=6, max_value=365)
)


def _inputs(rows, currency="EUR"):
    return [
        (f"Item {i}", line(quantity=str(q), price=str(p), rate=str(r), currency=currency))
        for i, (q, p, r) in enumerate(rows)
    ]


@settings(max_examples=150, deadline=None)
@given(
    rows=lines, period=periods, offset=st.integers(min_value=0, max_value=400), currency=st.sampled_from(["EUR", "NOK"])
)
def test_an_unchanged_subscription_nets_to_zero(rows, period, offset, currency):
    start, length = period
    end = start + timedelta(days=length - 1)
    on = start + timedelta(days=offset % length)
    items = _inputs(rows, currency)
    result = proration(old=items, new=items, period_start=start, period_end=end, on=on, currency=currency)
    assert result.credit.total == result.charge.total
    assert result.net == 0


@settings(max_examples=150, deadline=None)
@given(
    rows=lines,
    period=periods,
    offset=st.integers(min_value=0, max_value=400),
    percent=st.sampled_from([None, D("10"), D("33.3333"), D("100")]),
)
def test_a_credit_never_exceeds_what_the_period_billed(rows, period, offset, percent):
    start, length = period
    end = start + timedelta(days=length - 1)
    on = start + timedelta(days=offset % length)
    items = _inputs(rows)
    billed = pricing.document_summary([item for _name, item in items], currency="EUR")
    result = proration(
        old=items, new=[], period_start=start, period_end=end, on=on, currency="EUR", percent_off=percent
    )
    assert D(0) <= result.credit.total <= billed.total
    assert result.credit.subtotal <= billed.subtotal
    if on == start and percent is None:
        assert billed.total - result.credit.total <= D("0.01")  # the whole period unused: all of it back
