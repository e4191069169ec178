"""The billing calendar: when a subscription's periods start and end. Pure: dates in, dates out.

Periods are counted from an anchor date, never from the previous period's end, so short months cannot make the
dates drift: anchored on the 31st, a monthly subscription bills on 31 January, 28 (or 29) February, 31 March,
30 April. Month-based frequencies land on the anchor day (the anchor's day by default), or the month's last day when
it is shorter; weekly and two-weekly ones keep the anchor's weekday. python-dateutil's relativedelta clamps a day to
the month's last day.
"""

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from billing import pricing


def billing_date(*, start: date, frequency: str, periods: int, anchor_day: int | None = None) -> date:
    """The date `periods` billing periods after `start`: the start of period number `periods` (0 is `start`)."""
    rule = pricing.frequency_rule(frequency)
    if rule.term_unit is None:
        raise ValueError("a one-time line has no billing periods")
    if rule.term_unit == "weeks":
        return start + timedelta(weeks=rule.period_length * periods)
    return start + relativedelta(months=rule.period_length * periods, day=anchor_day or start.day)


def period_bounds(*, start: date, frequency: str, index: int, anchor_day: int | None = None) -> tuple[date, date]:
    """The first and last day of billing period number `index` (0 is the first)."""
    first = billing_date(start=start, frequency=frequency, periods=index, anchor_day=anchor_day)
    following = billing_date(start=start, frequency=frequency, periods=index + 1, anchor_day=anchor_day)
    return first, following - timedelta(days=1)
