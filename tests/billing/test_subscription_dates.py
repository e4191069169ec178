"""The billing calendar of subscriptions and the arithmetic of payment schedules, for any input (hypothesis), and
the start and next billing dates of subscriptions made from a quote's recurring lines, with exact dates."""

import calendar
from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from billing import pricing
from billing.billing_calendar import billing_date, period_bounds
from billing.installments import Column, Row, ScheduleError, schedule_amounts, split
from billing.models import LineItem, Subscription, SubscriptionStatus
from billing.pricing import FREQUENCY_RULES, Frequency, LineInput, document_summary
from billing.services.subscriptions import subscriptions_create_from_quote
from tests.billing.quote_paying import line, quote_make

thorough = settings(deadline=None, max_examples=200)
MONTHLY_KINDS = [f.value for f, rule in FREQUENCY_RULES.items() if rule.term_unit == "months"]
WEEKLY_KINDS = [f.value for f, rule in FREQUENCY_RULES.items() if rule.term_unit == "weeks"]
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))


# --- the calendar -----------------------------------------------------------------------------------------------------


def test_anchored_on_the_31st_a_monthly_subscription_bills_on_the_last_day_of_short_months():
    start = date(2024, 1, 31)
    bills = [billing_date(start=start, frequency="monthly", periods=n) for n in range(5)]
    assert bills == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30), date(2024, 5, 31)]
    assert billing_date(start=date(2025, 1, 31), frequency="monthly", periods=1) == date(2025, 2, 28)
    assert period_bounds(start=start, frequency="monthly", index=1) == (date(2024, 2, 29), date(2024, 3, 30))
    # A year from 29 February is 28 February, and the year after that is back on the 29th when there is one.
    leap = date(2024, 2, 29)
    assert [billing_date(start=leap, frequency="annual", periods=n) for n in (1, 4)] == [
        date(2025, 2, 28),
        date(2028, 2, 29),
    ]


def test_weekly_subscriptions_keep_their_weekday():
    start = date(2025, 3, 5)  # a Wednesday
    assert [billing_date(start=start, frequency="weekly", periods=n) for n in range(3)] == [
        date(2025, 3, 5),
        date(2025, 3, 12),
        date(2025, 3, 19),
    ]
    assert billing_date(start=start, frequency="biweekly", periods=2) == date(2025, 4, 2)


@thorough
@given(start=dates, frequency=st.sampled_from(MONTHLY_KINDS), periods=st.integers(0, 120))
def test_month_based_dates_land_on_the_anchor_day_or_the_months_last_day(start, frequency, periods):
    bill = billing_date(start=start, frequency=frequency, periods=periods)
    length = FREQUENCY_RULES[Frequency(frequency)].period_length
    assert (bill.year * 12 + bill.month) - (start.year * 12 + start.month) == periods * length
    assert bill.day == min(start.day, calendar.monthrange(bill.year, bill.month)[1])


@thorough
@given(start=dates, frequency=st.sampled_from(MONTHLY_KINDS), first=st.integers(0, 60), then=st.integers(0, 60))
def test_month_based_dates_never_drift(start, frequency, first, then):
    """Counting from a period's date with the start's anchor day lands where counting from the start does: a short
    month on the way never pulls later periods earlier."""
    middle = billing_date(start=start, frequency=frequency, periods=first)
    assert billing_date(start=middle, frequency=frequency, periods=then, anchor_day=start.day) == billing_date(
        start=start, frequency=frequency, periods=first + then
    )


@thorough
@given(start=dates, frequency=st.sampled_from([*MONTHLY_KINDS, *WEEKLY_KINDS]), index=st.integers(0, 100))
def test_periods_follow_each_other_without_gaps_or_overlaps(start, frequency, index):
    first, last = period_bounds(start=start, frequency=frequency, index=index)
    following, _ = period_bounds(start=start, frequency=frequency, index=index + 1)
    assert first <= last and following == last + timedelta(days=1)
    if frequency in WEEKLY_KINDS:
        assert first.weekday() == start.weekday()
        assert (first - start).days == 7 * FREQUENCY_RULES[Frequency(frequency)].period_length * index


# --- payment schedules ------------------------------------------------------------------------------------------------

RATES = [D(0), D(6), D(9), D(12), D(15), D(20), D(21), D(25)]
CURRENCIES = {"EUR": 2, "JPY": 0, "BHD": 3}


@st.composite
def quotes(draw):
    """A quote's total as its parts (a VAT rate's net with its VAT, or a part outside VAT), and the total."""
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    places = CURRENCIES[currency]
    parts = draw(st.lists(st.tuples(st.sampled_from(RATES), st.integers(100, 10**9)), min_size=1, max_size=4))
    columns = []
    for rate, units in parts:
        net = D(units).scaleb(-places)
        vat = pricing.round_money(Fraction(net) * Fraction(rate) / 100, currency)
        columns.append(Column(weight=net + vat, rate=rate))
    return currency, columns, sum((c.weight for c in columns), D(0))


@st.composite
def percentages(draw):
    """2 to 8 percentages with up to four decimals, each at least 1%, adding up to exactly 100%."""
    count = draw(st.integers(2, 8))
    units = 1_000_000  # 100% in steps of 0.0001%
    cuts = sorted(draw(st.lists(st.integers(10_000, units - 10_000), min_size=count - 1, max_size=count - 1)))
    bounds = [0, *cuts, units]
    shares = [b - a for a, b in zip(bounds, bounds[1:], strict=False)]
    if any(share < 10_000 for share in shares):
        shares = [units // count] * (count - 1) + [units - units // count * (count - 1)]
    return [D(share).scaleb(-4) for share in shares]


def _invoice_total(nets, columns, currency):
    """What the engine says an installment invoice with these nets at these rates comes to. Each column is a VAT
    group of its own on the quote (two groups never share rate and label), so each line has a label of its own."""
    lines = [
        LineInput(quantity=D(1), unit_price=net, currency=currency, tax_rate=column.rate, tax_label=f"group {i}")
        for i, (net, column) in enumerate(zip(nets, columns, strict=True))
        if net > 0
    ]
    return document_summary(lines, currency=currency).total


@thorough
@given(quote=quotes(), percents=percentages())
def test_installments_always_add_up_to_the_total_and_each_invoice_to_its_installment(quote, percents):
    currency, columns, total = quote
    amounts = schedule_amounts(total, [Row(percent=p) for p in percents], columns, currency)
    assert sum(amounts) == total
    assert all(amount > 0 for amount in amounts)
    for amount, percent in zip(amounts[:-1], percents[:-1], strict=True):
        # Rounded to the currency's unit, moved at most a few units to be invoiced exactly.
        unit = D(1).scaleb(-CURRENCIES[currency])
        assert abs(amount - total * percent / 100) <= 5 * unit
    for amount in amounts:
        nets = split(amount, columns, currency)
        assert nets is not None and all(net >= 0 for net in nets)
        assert _invoice_total(nets, columns, currency) == amount


@thorough
@given(quote=quotes(), percents=percentages(), data=st.data())
def test_amounts_typed_as_amounts_are_kept_exactly(quote, percents, data):
    currency, columns, total = quote
    index = data.draw(st.integers(0, len(percents) - 2))
    # One installment typed as the amount its percentage would give; the others stay percentages.
    typed = pricing.round_money(Fraction(total) * Fraction(percents[index]) / 100, currency)
    typed_percent = Fraction(typed) * 100 / Fraction(total)
    rows = [Row(amount=typed) if i == index else Row(percent=p) for i, p in enumerate(percents)]
    last_percent = percents[-1] + (percents[index] - D(typed_percent.numerator) / D(typed_percent.denominator))
    rows[-1] = Row(percent=last_percent.quantize(D(1).scaleb(-4)))
    try:
        amounts = schedule_amounts(total, rows, columns, currency)
    except ScheduleError as exc:
        # Refused only for what the rules refuse: a typed amount no invoice can total exactly, or a last percentage
        # that comes to such an amount with no other percentage to move a cent to (typed amounts are never moved).
        allowed = set()
        if not split(typed, columns, currency):
            allowed.add((index, "amount"))
        if len(percents) == 2:
            allowed.add((len(percents) - 1, "percent"))
        assert {(row, field) for row, field, _message in exc.errors} <= allowed
        assert exc.errors
        return
    assert amounts[index] == typed
    assert sum(amounts) == total


# --- subscriptions from a quote ---------------------------------------------------------------------------------------


def test_subscriptions_start_on_each_lines_billing_start_with_the_right_next_billing_date(tenant_alpha):
    checkout = date(2025, 1, 31)
    quote, _publication = quote_make(
        lines=(
            line("Hosting", "1", "50.00", frequency="monthly"),  # at checkout: the first month paid with it
            line("Licences", "3", "20.00", frequency="annual", start="date", date=date(2025, 3, 1)),
            line("Monitoring", "1", "10.00", frequency="weekly", start="delay_days", delay=14),
            line("Support", "1", "100.00", frequency="quarterly", start="delay_months", delay=1),
            line("Setup", "1", "500.00"),  # one-time: no subscription
        )
    )
    hosting = LineItem.objects.get(quote=quote, name="Hosting")
    created = subscriptions_create_from_quote(quote=quote, start=checkout, paid_line_ids=[hosting.pk], today=checkout)
    rows = [
        (s.name, s.frequency, s.status, s.start_date, s.anchor_day, s.next_billing_date, s.current_period_end)
        for s in Subscription.objects.filter(source_quote=quote).order_by("start_date", "frequency")
    ]
    assert rows == [
        (
            "Fjordline rollout (monthly)",
            "monthly",
            "active",
            date(2025, 1, 31),
            31,
            date(2025, 2, 28),
            date(2025, 2, 27),
        ),
        ("Fjordline rollout (weekly)", "weekly", "scheduled", date(2025, 2, 14), 14, date(2025, 2, 14), None),
        # One month after 31 January is the last day of February.
        ("Fjordline rollout (quarterly)", "quarterly", "scheduled", date(2025, 2, 28), 28, date(2025, 2, 28), None),
        ("Fjordline rollout (annually)", "annual", "scheduled", date(2025, 3, 1), 1, date(2025, 3, 1), None),
    ]
    assert len(created) == 4
    # The lines are copies owned by their subscription.
    assert [li.name for li in Subscription.objects.get(frequency="annual", source_quote=quote).line_items.all()] == [
        "Licences"
    ]
    # Created once: running the checkout's completion again makes nothing new.
    assert (
        subscriptions_create_from_quote(quote=quote, start=checkout, paid_line_ids=[hosting.pk], today=checkout) == []
    )
    assert Subscription.objects.filter(source_quote=quote).count() == 4
    assert Subscription.objects.get(source_quote=quote, frequency="monthly").status == SubscriptionStatus.ACTIVE


def test_a_custom_date_that_passed_before_payment_starts_the_day_after_checkout(tenant_alpha):
    checkout = date(2025, 6, 10)
    quote, _publication = quote_make(
        lines=(
            line("Hosting", "1", "50.00", frequency="monthly"),
            line("Backup", "1", "5.00", frequency="monthly", start="date", date=date(2025, 6, 1)),
        )
    )
    hosting = LineItem.objects.get(quote=quote, name="Hosting")
    subscriptions_create_from_quote(quote=quote, start=checkout, paid_line_ids=[hosting.pk], today=checkout)
    assert list(
        Subscription.objects.filter(source_quote=quote)
        .order_by("start_date")
        .values_list("start_date", "next_billing_date")
    ) == [(date(2025, 6, 10), date(2025, 7, 10)), (date(2025, 6, 11), date(2025, 6, 11))]
