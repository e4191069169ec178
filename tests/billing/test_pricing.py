"""The pricing engine, by example: exact values a quote, an invoice or a deal's metrics must show."""

from decimal import Decimal as D
from fractions import Fraction

import pytest

from billing.pricing import (
    Adjustment,
    AdjustmentKind,
    DiscountType,
    Frequency,
    LineInput,
    PricingError,
    PricingModel,
    Tier,
    bundle_unit_price,
    document_summary,
    line_result,
    round_money,
    validate_adjustments,
    validate_line,
)


def line(quantity="1", unit_price="120", currency="EUR", **kwargs) -> LineInput:
    return LineInput(quantity=D(quantity), unit_price=D(unit_price), currency=currency, **kwargs)


# --- the MRR example of the issue ------------------------------------------------------------------------------


def test_weekly_mrr_example_is_44_7722_exact_and_44_77_shown():
    result = line_result(line(unit_price="10.34", frequency=Frequency.WEEKLY))
    assert result.exact.mrr == D("44.7722")
    assert result.mrr == D("44.77")
    assert (result.arr, result.tcv, result.acv) == (D("537.68"), D("537.68"), D("537.68"))
    assert result.payments == 52
    assert result.invoice_count is None


# --- every frequency, with and without a term (net 120.00 per period) -------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "mrr", "arr", "tcv", "acv", "payments"),
    [
        (Frequency.ONE_TIME, "0.00", "0.00", "120.00", "120.00", 1),
        (Frequency.WEEKLY, "519.60", "6240.00", "6240.00", "6240.00", 52),
        (Frequency.BIWEEKLY, "259.20", "3120.00", "3120.00", "3120.00", 26),
        (Frequency.MONTHLY, "120.00", "1440.00", "1440.00", "1440.00", 12),
        (Frequency.QUARTERLY, "40.00", "480.00", "480.00", "480.00", 4),
        (Frequency.SEMIANNUAL, "20.00", "240.00", "240.00", "240.00", 2),
        (Frequency.ANNUAL, "10.00", "120.00", "120.00", "120.00", 1),
        # Without a term, one year holds a fraction of a multi-year period: ARR = MRR x 12 for these too.
        (Frequency.BIENNIAL, "5.00", "60.00", "60.00", "60.00", Fraction(1, 2)),
        (Frequency.TRIENNIAL, "3.33", "40.00", "40.00", "40.00", Fraction(1, 3)),
        (Frequency.QUADRENNIAL, "2.50", "30.00", "30.00", "30.00", Fraction(1, 4)),
        (Frequency.QUINQUENNIAL, "2.00", "24.00", "24.00", "24.00", Fraction(1, 5)),
    ],
)
def test_metrics_for_every_frequency_without_a_term(frequency, mrr, arr, tcv, acv, payments):
    result = line_result(line(frequency=frequency))
    assert (result.mrr, result.arr, result.tcv, result.acv) == (D(mrr), D(arr), D(tcv), D(acv))
    assert result.payments == payments
    assert result.invoice_count == (1 if frequency == Frequency.ONE_TIME else None)
    assert result.net == D("120.00")


@pytest.mark.parametrize(
    ("frequency", "term", "mrr", "arr", "tcv", "acv", "payments"),
    [
        (Frequency.WEEKLY, {"term_weeks": 26}, "519.60", "3120.00", "3120.00", "3120.00", 26),
        (Frequency.WEEKLY, {"term_weeks": 52}, "519.60", "6240.00", "6240.00", "6240.00", 52),
        (Frequency.WEEKLY, {"term_weeks": 104}, "519.60", "6240.00", "12480.00", "6240.00", 104),
        (Frequency.BIWEEKLY, {"term_weeks": 78}, "259.20", "3120.00", "4680.00", "3120.00", 39),
        (Frequency.MONTHLY, {"term_months": 6}, "120.00", "720.00", "720.00", "720.00", 6),
        (Frequency.MONTHLY, {"term_months": 12}, "120.00", "1440.00", "1440.00", "1440.00", 12),
        (Frequency.MONTHLY, {"term_months": 36}, "120.00", "1440.00", "4320.00", "1440.00", 36),
        (Frequency.QUARTERLY, {"term_months": 9}, "40.00", "360.00", "360.00", "360.00", 3),
        (Frequency.QUARTERLY, {"term_months": 18}, "40.00", "480.00", "720.00", "480.00", 6),
        (Frequency.SEMIANNUAL, {"term_months": 12}, "20.00", "240.00", "240.00", "240.00", 2),
        (Frequency.ANNUAL, {"term_months": 36}, "10.00", "120.00", "360.00", "120.00", 3),
        (Frequency.BIENNIAL, {"term_months": 48}, "5.00", "60.00", "240.00", "60.00", 2),
        (Frequency.TRIENNIAL, {"term_months": 36}, "3.33", "40.00", "120.00", "40.00", 1),
        (Frequency.QUADRENNIAL, {"term_months": 96}, "2.50", "30.00", "240.00", "30.00", 2),
        (Frequency.QUINQUENNIAL, {"term_months": 60}, "2.00", "24.00", "120.00", "24.00", 1),
    ],
)
def test_metrics_for_every_frequency_with_a_term(frequency, term, mrr, arr, tcv, acv, payments):
    result = line_result(line(frequency=frequency, **term))
    assert (result.mrr, result.arr, result.tcv, result.acv) == (D(mrr), D(arr), D(tcv), D(acv))
    assert result.payments == payments
    assert result.invoice_count == payments


def test_metrics_are_exact_until_rounded_once():
    result = line_result(line(unit_price="100", frequency=Frequency.QUARTERLY))
    assert result.exact.mrr == Fraction(100, 3)
    assert result.mrr == D("33.33")
    annual = line_result(line(unit_price="0.06", frequency=Frequency.ANNUAL))
    assert annual.exact.mrr == Fraction(1, 200)
    assert annual.mrr == D("0.01")  # 0.005 rounds half up


def test_margin_is_net_minus_unit_cost_times_quantity():
    result = line_result(line(quantity="3", unit_price="19.99", unit_cost=D("7.125")))
    assert result.margin == D("38.60")  # 59.97 - 21.375 = 38.595
    assert line_result(line(quantity="3", unit_price="19.99")).margin == D("59.97")  # no cost known: zero


# --- pricing models ---------------------------------------------------------------------------------------------

VOLUME = (Tier(D("10"), D("10.00")), Tier(D("50"), D("8.00")), Tier(None, D("6.00"), D("20.00")))
GRADUATED = (Tier(D("10"), D("10.00"), D("5.00")), Tier(D("50"), D("8.00")), Tier(None, D("6.00"), D("20.00")))


@pytest.mark.parametrize(
    ("quantity", "gross"),
    [("0", "0.00"), ("1", "10.00"), ("10", "100.00"), ("11", "88.00"), ("50", "400.00"), ("51", "326.00")],
)
def test_volume_tiers_price_the_whole_quantity_at_the_tier_it_reaches(quantity, gross):
    result = line_result(line(quantity, "0", pricing_model=PricingModel.VOLUME, tiers=VOLUME))
    assert result.gross == D(gross)


@pytest.mark.parametrize(
    ("quantity", "gross"),
    [("0", "0.00"), ("5", "55.00"), ("10", "105.00"), ("11", "113.00"), ("12.5", "125.00"), ("60", "505.00")],
)
def test_graduated_tiers_price_each_unit_at_its_own_tier_with_flat_fees(quantity, gross):
    # 60 = 10 x 10.00 + 5.00 fee, 40 x 8.00, 10 x 6.00 + 20.00 fee
    result = line_result(line(quantity, "0", pricing_model=PricingModel.GRADUATED, tiers=GRADUATED))
    assert result.gross == D(gross)


@pytest.mark.parametrize(
    ("quantity", "gross"), [("0", "0.00"), ("1", "20.00"), ("5", "20.00"), ("6", "40.00"), ("11", "60.00")]
)
def test_package_pricing_bills_every_started_package(quantity, gross):
    result = line_result(line(quantity, "20.00", pricing_model=PricingModel.PACKAGE, package_size=D("5")))
    assert result.gross == D(gross)


def test_package_amount_discount_is_per_package():
    result = line_result(
        line(
            "11",
            "20.00",
            pricing_model=PricingModel.PACKAGE,
            package_size=D("5"),
            discount_type=DiscountType.AMOUNT,
            discount_value=D("2.50"),
        )
    )
    assert (result.gross, result.discount, result.net) == (D("60.00"), D("7.50"), D("52.50"))
    assert result.billed_units == 3


def test_tiered_percent_discount_applies_to_the_tiered_price():
    result = line_result(
        line(
            "60",
            "0",
            pricing_model=PricingModel.GRADUATED,
            tiers=GRADUATED,
            discount_type=DiscountType.PERCENT,
            discount_value=D("10"),
        )
    )
    assert (result.gross, result.discount, result.net) == (D("505.00"), D("50.50"), D("454.50"))


# --- bundles ----------------------------------------------------------------------------------------------------


def test_bundle_priced_as_the_sum_of_its_parts():
    assert bundle_unit_price([(D("2"), D("10.50")), (D("1"), D("5.25"))], mode="sum") == D("26.25")


def test_bundle_sum_keeps_unit_price_precision():
    assert bundle_unit_price([(D("0.5"), D("0.000001"))], mode="sum") == D("0.000001")


def test_bundle_priced_as_a_whole_ignores_component_prices():
    components = [(D("2"), D("10.50")), (D("1"), D("5.25"))]
    assert bundle_unit_price(components, mode="whole", whole_price=D("20.00")) == D("20.00")


@pytest.mark.parametrize(
    ("components", "mode", "whole_price", "error"),
    [
        ([(D("1"), D("5"))], "whole", None, ("whole_price", "Enter the price of the bundle.")),
        ([(D("1"), D("5"))], "whole", D("-1"), ("whole_price", "The unit price cannot be negative.")),
        ([(D("1"), D("5"))], "whole", D("1.0000001"), ("whole_price", "Use at most 6 decimals.")),
        (
            [(D("1"), D("5"))],
            "sum",
            D("5"),
            ("whole_price", "A bundle priced as the sum of its parts has no price of its own."),
        ),
        ([], "sum", None, ("components", "Add at least one component.")),
        ([(D("-1"), D("5"))], "sum", None, ("components", "A component's quantity and price cannot be negative.")),
    ],
)
def test_bundle_errors(components, mode, whole_price, error):
    with pytest.raises(PricingError) as raised:
        bundle_unit_price(components, mode=mode, whole_price=whole_price)
    assert raised.value.errors == [error]


# --- unit discounts and line tax -------------------------------------------------------------------------------


def test_percent_unit_discount_and_line_tax_round_once_each():
    result = line_result(
        line("3", "19.99", discount_type=DiscountType.PERCENT, discount_value=D("15"), tax_rate=D("21"))
    )
    assert result.exact.discount == D("8.9955")
    assert (result.gross, result.discount, result.net) == (D("59.97"), D("9.00"), D("50.97"))
    assert result.exact.tax == D("10.704645")
    assert (result.tax, result.total) == (D("10.70"), D("61.68"))  # total 61.679145, not 50.97 + 10.70


def test_amount_unit_discount_is_per_unit():
    result = line_result(line("4", "12.00", discount_type=DiscountType.AMOUNT, discount_value=D("2.50")))
    assert (result.gross, result.discount, result.net) == (D("48.00"), D("10.00"), D("38.00"))


@pytest.mark.parametrize(
    ("discount_type", "value"), [(DiscountType.PERCENT, D("100")), (DiscountType.AMOUNT, D("12.00"))]
)
def test_the_largest_allowed_discount_makes_a_line_zero_not_negative(discount_type, value):
    result = line_result(line("4", "12.00", discount_type=discount_type, discount_value=value))
    assert result.net == D("0.00")


def test_reverse_charge_line_carries_no_vat():
    result = line_result(line("2", "100", tax_rate=D("21"), reverse_charge=True))
    assert (result.tax, result.total) == (D("0.00"), D("200.00"))


# --- JPY: no minor unit ----------------------------------------------------------------------------------------


def test_jpy_rounds_to_whole_yen_half_up():
    result = line_result(line("3", "333.5", "JPY", tax_rate=D("10")))
    assert (result.gross, result.tax, result.total) == (D("1001"), D("100"), D("1101"))  # 1000.5, 100.05, 1100.55
    assert line_result(line("1", "1000", "JPY", frequency=Frequency.QUARTERLY)).mrr == D("333")
    assert round_money(D("0.5"), "JPY") == D("1")


def test_jpy_document_rounds_vat_per_rate():
    summary = document_summary(
        [line("1", "1000.5", "JPY", tax_rate=D("10")), line("1", "499.5", "JPY", tax_rate=D("8"))], currency="JPY"
    )
    assert summary.subtotal == D("1500")
    assert [(g.rate, g.base, g.vat) for g in summary.vat_groups] == [
        (D("10"), D("1001"), D("100")),  # 100.05
        (D("8"), D("500"), D("40")),  # 39.96
    ]
    assert summary.total == D("1640")


# --- documents: one-time adjustments, VAT groups --------------------------------------------------------------


def vat(rate: str, label: str = "") -> dict:
    return {"tax_rate": D(rate), "tax_label": label or f"VAT {rate}%"}


def test_one_time_discounts_fees_and_taxes_apply_to_the_subtotal():
    summary = document_summary(
        [line("2", "100", **vat("21")), line("1", "50", **vat("9"))],
        [
            Adjustment(AdjustmentKind.DISCOUNT, "Launch", percent=D("10")),
            Adjustment(AdjustmentKind.DISCOUNT, "Loyalty", amount=D("5")),
            Adjustment(AdjustmentKind.FEE, "Handling", percent=D("2")),
            Adjustment(AdjustmentKind.FEE, "Shipping", amount=D("7.50")),
            Adjustment(AdjustmentKind.TAX, "Environmental levy", percent=D("1.5")),
        ],
        currency="EUR",
    )
    assert summary.subtotal == D("250.00")
    assert [a.amount for a in summary.adjustments] == [D("25.00"), D("5.00"), D("5.00"), D("7.50"), D("3.75")]
    assert summary.one_time_discount_total == D("30.00")
    assert summary.one_time_fee_total == D("12.50")
    assert summary.one_time_tax_total == D("3.75")
    assert summary.apportioned_discounts == (D("24.00"), D("6.00"))
    assert [(g.label, g.base, g.vat) for g in summary.vat_groups] == [
        ("VAT 21%", D("176.00"), D("36.96")),
        ("VAT 9%", D("44.00"), D("3.96")),
    ]
    assert summary.vat_total == D("40.92")
    assert summary.total == D("277.17")  # 250 - 30 + 12.50 + 3.75 + 40.92


def test_apportioning_leftover_lands_on_the_largest_line():
    summary = document_summary(
        [line("1", "50", **vat("21")), line("1", "200", **vat("9")), line("1", "50", **vat("21"))],
        [Adjustment(AdjustmentKind.DISCOUNT, "Deal", amount=D("10.01"))],
        currency="EUR",
    )
    # 10.01 x 50/300 = 1.668 -> 1.66 twice, 10.01 x 200/300 = 6.673 -> 6.67, plus the 0.02 left over
    assert summary.apportioned_discounts == (D("1.66"), D("6.69"), D("1.66"))
    assert [(g.rate, g.base, g.vat, g.line_indexes) for g in summary.vat_groups] == [
        (D("21"), D("96.68"), D("20.30"), (0, 2)),
        (D("9"), D("193.31"), D("17.40"), (1,)),
    ]
    assert summary.total == D("327.69")


def test_vat_is_rounded_once_per_group_not_per_line():
    summary = document_summary([line("1", "0.07", **vat("21"))] * 3, currency="EUR")
    assert [result.tax for result in summary.lines] == [D("0.01")] * 3
    assert summary.vat_total == D("0.04")  # 0.21 x 21% = 0.0441


def test_norwegian_vat_groups_with_a_reverse_charge_line():
    summary = document_summary(
        [
            line("4", "249.90", "NOK", **vat("25", "MVA 25%")),
            line("2", "89.50", "NOK", **vat("15", "MVA 15%")),
            line("1", "1000", "NOK", **vat("25", "Omvendt avgiftsplikt"), reverse_charge=True),
        ],
        [Adjustment(AdjustmentKind.DISCOUNT, "Rabatt", percent=D("5"))],
        currency="NOK",
    )
    assert summary.subtotal == D("2178.60")
    assert summary.one_time_discount_total == D("108.93")
    assert summary.apportioned_discounts == (D("49.98"), D("8.95"), D("50.00"))
    assert [(g.rate, g.label, g.reverse_charge, g.base, g.vat) for g in summary.vat_groups] == [
        (D("25"), "MVA 25%", False, D("949.62"), D("237.41")),  # 237.405, half up
        (D("15"), "MVA 15%", False, D("170.05"), D("25.51")),  # 25.5075
        (D("0"), "Omvendt avgiftsplikt", True, D("950.00"), D("0.00")),
    ]
    assert summary.vat_total == D("262.92")
    assert summary.total == D("2332.59")
    assert summary.reverse_charge is True


def test_document_without_reverse_charge_lines_has_no_flag():
    assert document_summary([line(**vat("21"))], currency="EUR").reverse_charge is False


def test_document_metrics_sum_exact_line_values_and_round_once():
    summary = document_summary(
        [
            line("1", "500", unit_cost=D("200")),
            line("1", "99", frequency=Frequency.MONTHLY, term_months=12, unit_cost=D("30")),
            line("1", "1200", frequency=Frequency.ANNUAL, term_months=36),
            line("1", "10.34", frequency=Frequency.WEEKLY, unit_cost=D("2.50")),
        ],
        [Adjustment(AdjustmentKind.DISCOUNT, "One-time", amount=D("100"))],
        currency="EUR",
    )
    assert (summary.one_time_subtotal, summary.recurring_subtotal) == (D("500.00"), D("1309.34"))
    assert summary.mrr == D("243.77")  # 99 + 100 + 44.7722
    assert summary.arr == D("2925.68")  # 1188 + 1200 + 537.68
    assert summary.tcv == D("5825.68")  # 500 + 1188 + 3600 + 537.68
    assert summary.acv == D("3425.68")  # 500 + 1188 + 1200 + 537.68
    assert summary.margin == D("1576.84")  # 300 + 69 + 1200 + 7.84


def test_document_mrr_is_not_a_sum_of_rounded_line_values():
    summary = document_summary([line("1", "0.01", frequency=Frequency.WEEKLY)] * 3, currency="EUR")
    assert [result.mrr for result in summary.lines] == [D("0.04")] * 3
    assert summary.mrr == D("0.13")  # 3 x 0.0433 = 0.1299


def test_line_discounts_are_reported_apart_from_one_time_discounts():
    summary = document_summary(
        [line("2", "50", discount_type=DiscountType.PERCENT, discount_value=D("10"))],
        [Adjustment(AdjustmentKind.DISCOUNT, "Extra", amount=D("10"))],
        currency="EUR",
    )
    assert (summary.gross_total, summary.discount_total, summary.subtotal) == (D("100.00"), D("10.00"), D("90.00"))
    assert (summary.one_time_discount_total, summary.total) == (D("10.00"), D("80.00"))


def test_empty_document_is_zero():
    summary = document_summary([], currency="EUR")
    assert (summary.subtotal, summary.vat_total, summary.total, summary.mrr) == (D("0.00"),) * 4
    assert summary.vat_groups == ()


# --- validation: every message ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"currency": "ABC"}, ("currency", "Unknown currency.")),
        ({"quantity": "NaN"}, ("quantity", "Enter a number.")),
        ({"quantity": "-1"}, ("quantity", "The quantity cannot be negative.")),
        ({"unit_price": "-0.01"}, ("unit_price", "The unit price cannot be negative.")),
        ({"unit_price": "1.0000001"}, ("unit_price", "Use at most 6 decimals.")),
        (
            {"pricing_model": PricingModel.PACKAGE},
            ("package_size", "The package size must be more than zero."),
        ),
        (
            {"pricing_model": PricingModel.PACKAGE, "package_size": D("0")},
            ("package_size", "The package size must be more than zero."),
        ),
        ({"pricing_model": PricingModel.VOLUME}, ("tiers", "Add at least one tier.")),
        (
            {"pricing_model": PricingModel.VOLUME, "tiers": (Tier(None, D("-1")),)},
            ("tiers", "A tier price cannot be negative."),
        ),
        (
            {"pricing_model": PricingModel.GRADUATED, "tiers": (Tier(None, D("1"), D("0.0000001")),)},
            ("tiers", "Use at most 6 decimals."),
        ),
        (
            {"pricing_model": PricingModel.VOLUME, "tiers": (Tier(D("10"), D("1")),)},
            ("tiers", "The last tier, and only the last, has no upper limit."),
        ),
        (
            {"pricing_model": PricingModel.VOLUME, "tiers": (Tier(None, D("2")), Tier(None, D("1")))},
            ("tiers", "The last tier, and only the last, has no upper limit."),
        ),
        (
            {
                "pricing_model": PricingModel.GRADUATED,
                "tiers": (Tier(D("10"), D("2")), Tier(D("10"), D("1")), Tier(None, D("1"))),
            },
            ("tiers", "Each tier must end above the one before it."),
        ),
        (
            {"pricing_model": PricingModel.GRADUATED, "tiers": (Tier(D("0"), D("2")), Tier(None, D("1")))},
            ("tiers", "Each tier must end above the one before it."),
        ),
        (
            {"discount_value": D("5")},
            ("discount_type", "Choose whether the discount is a percentage or an amount."),
        ),
        (
            {"discount_type": DiscountType.AMOUNT, "discount_value": D("-1")},
            ("discount_value", "The discount cannot be negative."),
        ),
        (
            {"discount_type": DiscountType.PERCENT, "discount_value": D("100.01")},
            ("discount_value", "A percentage discount cannot be more than 100%."),
        ),
        (
            {"discount_type": DiscountType.AMOUNT, "discount_value": D("120.01")},
            ("discount_value", "The discount is more than the price."),
        ),
        (
            {
                "pricing_model": PricingModel.PACKAGE,
                "package_size": D("5"),
                "discount_type": DiscountType.AMOUNT,
                "discount_value": D("120.01"),
            },
            ("discount_value", "The discount is more than the price."),
        ),
        (
            # 60 units cost 505.00 (8.4166... a unit on average), so 8.42 off each unit is more than the price
            {
                "quantity": "60",
                "pricing_model": PricingModel.GRADUATED,
                "tiers": GRADUATED,
                "discount_type": DiscountType.AMOUNT,
                "discount_value": D("8.42"),
            },
            ("discount_value", "The discount is more than the price."),
        ),
        ({"tax_rate": D("-1")}, ("tax_rate", "The tax rate must be between 0% and 100%.")),
        ({"tax_rate": D("100.5")}, ("tax_rate", "The tax rate must be between 0% and 100%.")),
        ({"unit_cost": D("-1")}, ("unit_cost", "The unit cost cannot be negative.")),
        ({"unit_cost": D("0.0000001")}, ("unit_cost", "Use at most 6 decimals.")),
        ({"term_months": 12}, ("term_months", "A one-time line has no term.")),
        (
            {"frequency": Frequency.WEEKLY, "term_months": 12},
            ("term_months", "Give the term of a weekly or two-weekly line in weeks."),
        ),
        (
            {"frequency": Frequency.MONTHLY, "term_weeks": 52},
            ("term_weeks", "Give the term of this billing frequency in months."),
        ),
        (
            {"frequency": Frequency.QUARTERLY, "term_months": 2},
            ("term_months", "The term is shorter than one billing period."),
        ),
        (
            {"frequency": Frequency.BIWEEKLY, "term_weeks": 1},
            ("term_weeks", "The term is shorter than one billing period."),
        ),
        (
            {"frequency": Frequency.WEEKLY, "term_weeks": 0},
            ("term_weeks", "The term is shorter than one billing period."),
        ),
        (
            {"frequency": Frequency.BIENNIAL, "term_months": 12},
            ("term_months", "The term is shorter than one billing period."),
        ),
        (
            {"frequency": Frequency.QUARTERLY, "term_months": 7},
            ("term_months", "The term must be a multiple of 3 months."),
        ),
        (
            {"frequency": Frequency.BIWEEKLY, "term_weeks": 5},
            ("term_weeks", "The term must be a multiple of 2 weeks."),
        ),
        (
            {"frequency": Frequency.MONTHLY, "term_months": D("1.5")},
            ("term_months", "Enter a whole number."),
        ),
    ],
)
def test_validate_line_reports_each_problem_next_to_its_field(kwargs, error):
    kwargs = dict(kwargs)
    quantity = kwargs.pop("quantity", "1")
    unit_price = kwargs.pop("unit_price", "120")
    bad = line(quantity, unit_price, **kwargs)
    assert validate_line(bad) == [error]
    with pytest.raises(PricingError) as raised:
        line_result(bad)
    assert raised.value.errors == [error]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"unit_price": "0.000001"},
        {"discount_type": DiscountType.AMOUNT, "discount_value": D("120")},
        {"discount_type": DiscountType.PERCENT, "discount_value": D("100")},
        {"frequency": Frequency.QUARTERLY, "term_months": 3},
        {"frequency": Frequency.WEEKLY, "term_weeks": 1},
        {"pricing_model": PricingModel.PACKAGE, "package_size": D("0.5")},
        {"quantity": "0", "pricing_model": PricingModel.GRADUATED, "tiers": GRADUATED},
        {"currency": "NOK", "tax_rate": D("100")},
    ],
)
def test_validate_line_accepts_the_limits(kwargs):
    kwargs = dict(kwargs)
    quantity = kwargs.pop("quantity", "1")
    unit_price = kwargs.pop("unit_price", "120")
    assert validate_line(line(quantity, unit_price, **kwargs)) == []


@pytest.mark.parametrize(
    ("adjustment", "currency", "error"),
    [
        (Adjustment(AdjustmentKind.FEE, " ", amount=D("1")), "EUR", (0, "label", "Enter a label.")),
        (Adjustment(AdjustmentKind.FEE, "Fee"), "EUR", (0, "amount", "Enter either a percentage or an amount.")),
        (
            Adjustment(AdjustmentKind.FEE, "Fee", percent=D("1"), amount=D("1")),
            "EUR",
            (0, "amount", "Enter either a percentage or an amount."),
        ),
        (Adjustment(AdjustmentKind.FEE, "Fee", amount=D("Infinity")), "EUR", (0, "amount", "Enter a number.")),
        (
            Adjustment(AdjustmentKind.TAX, "Levy", percent=D("-1")),
            "EUR",
            (0, "percent", "The percentage cannot be negative."),
        ),
        (
            Adjustment(AdjustmentKind.DISCOUNT, "Off", amount=D("-1")),
            "EUR",
            (0, "amount", "The amount cannot be negative."),
        ),
        (
            Adjustment(AdjustmentKind.DISCOUNT, "Off", percent=D("101")),
            "EUR",
            (0, "percent", "A percentage discount cannot be more than 100%."),
        ),
        (Adjustment(AdjustmentKind.FEE, "Fee", amount=D("1.005")), "EUR", (0, "amount", "Use at most 2 decimals.")),
        (Adjustment(AdjustmentKind.FEE, "Fee", amount=D("1.5")), "JPY", (0, "amount", "Enter a whole amount.")),
        (
            Adjustment(AdjustmentKind.DISCOUNT, "Off", amount=D("100.01")),
            "EUR",
            (0, "amount", "The discount is more than the subtotal."),
        ),
    ],
)
def test_validate_adjustments_reports_each_problem(adjustment, currency, error):
    assert validate_adjustments([adjustment], subtotal=D("100"), currency=currency) == [error]


def test_discounts_together_may_not_exceed_the_subtotal():
    adjustments = [
        Adjustment(AdjustmentKind.DISCOUNT, "Half", percent=D("50")),
        Adjustment(AdjustmentKind.FEE, "Fee", amount=D("80")),  # fees do not make room for more discount
        Adjustment(AdjustmentKind.DISCOUNT, "Sixty", amount=D("60")),
    ]
    assert validate_adjustments(adjustments, subtotal=D("100"), currency="EUR") == [
        (2, "amount", "Together, the discounts are more than the subtotal.")
    ]
    assert validate_adjustments(adjustments[:2], subtotal=D("100"), currency="EUR") == []


def test_document_summary_refuses_bad_lines_adjustments_and_other_currencies():
    with pytest.raises(PricingError) as raised:
        document_summary([line(), line("-1"), line(currency="NOK")], currency="EUR")
    assert raised.value.errors == [
        ("lines[1].quantity", "The quantity cannot be negative."),
        ("lines[2].currency", "Every line must be in the document's currency."),
    ]
    with pytest.raises(PricingError) as raised:
        document_summary([line()], [Adjustment(AdjustmentKind.DISCOUNT, "Off", amount=D("200"))], currency="EUR")
    assert raised.value.errors == [("adjustments[0].amount", "The discount is more than the subtotal.")]
    with pytest.raises(PricingError) as raised:
        document_summary([], currency="XYZ")
    assert raised.value.errors == [("currency", "Unknown currency.")]


def test_floats_are_refused():
    with pytest.raises(TypeError):
        round_money(0.1, "EUR")
