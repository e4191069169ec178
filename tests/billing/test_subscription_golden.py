"""Golden tests of the billing run: a year (or more) of weekly, monthly, quarterly and annual subscriptions with
their exact invoice dates, periods and amounts; month-end anchors, a leap day, DST changes, a trial, a coupon, a
term, canceling at the period's end and a pause with a date to resume."""

from datetime import date, datetime, time
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from billing.models import Invoice, InvoiceStatus, Subscription, SubscriptionStatus
from billing.services.subscription_billing import subscriptions_bill_due
from commerce_hub.events.models import OutgoingEmail
from tests.billing.subscribing import coupon_make, subscription_make, tenant_timezone_set


def at(day: date, hour=0, minute=30, zone="Europe/Amsterdam") -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(zone))


def rows(subscription) -> list[tuple[str, str, str, str]]:
    """(invoice date, period start, period end, total) of every invoice, oldest first."""
    return [
        (i.issue_date.isoformat(), i.period_start.isoformat(), i.period_end.isoformat(), i.snapshot["total"])
        for i in Invoice.objects.filter(subscription=subscription).order_by("period_start")
    ]


WEEKLY_DATES = [
    "2027-01-04", "2027-01-11", "2027-01-18", "2027-01-25", "2027-02-01", "2027-02-08", "2027-02-15", "2027-02-22",
    "2027-03-01", "2027-03-08", "2027-03-15", "2027-03-22", "2027-03-29", "2027-04-05", "2027-04-12", "2027-04-19",
    "2027-04-26", "2027-05-03", "2027-05-10", "2027-05-17", "2027-05-24", "2027-05-31", "2027-06-07", "2027-06-14",
    "2027-06-21", "2027-06-28", "2027-07-05", "2027-07-12", "2027-07-19", "2027-07-26", "2027-08-02", "2027-08-09",
    "2027-08-16", "2027-08-23", "2027-08-30", "2027-09-06", "2027-09-13", "2027-09-20", "2027-09-27", "2027-10-04",
    "2027-10-11", "2027-10-18", "2027-10-25", "2027-11-01", "2027-11-08", "2027-11-15", "2027-11-22", "2027-11-29",
    "2027-12-06", "2027-12-13", "2027-12-20", "2027-12-27",
]  # fmt: skip


def test_a_year_of_weekly_invoices_every_monday_at_45_38(tenant_alpha):
    # 3 x 12.50 = 37.50, VAT 21% = 7.875 -> 7.88: 45.38 every week.
    subscription = subscription_make(
        start=date(2027, 1, 4), frequency="weekly", lines=(("Seats", "3", "12.50", "BTW 21%", None),)
    )
    subscriptions_bill_due(now=at(date(2027, 12, 31)))
    table = rows(subscription)
    assert [r[0] for r in table] == WEEKLY_DATES
    assert {r[3] for r in table} == {"45.38"}
    assert table[0][1:3] == ("2027-01-04", "2027-01-10") and table[-1][1:3] == ("2027-12-27", "2028-01-02")
    subscription.refresh_from_db()
    assert (subscription.periods_billed, subscription.next_billing_date) == (52, date(2028, 1, 3))


def test_a_year_of_monthly_invoices_anchored_on_the_31st(tenant_alpha):
    # 2 x 49.99 = 99.98, VAT 21% = 20.9958 -> 21.00: 120.98.
    subscription = subscription_make(start=date(2027, 1, 31), lines=(("Hosting", "2", "49.99", "BTW 21%", None),))
    subscriptions_bill_due(now=at(date(2027, 12, 31)))
    assert rows(subscription) == [
        ("2027-01-31", "2027-01-31", "2027-02-27", "120.98"),
        ("2027-02-28", "2027-02-28", "2027-03-30", "120.98"),
        ("2027-03-31", "2027-03-31", "2027-04-29", "120.98"),
        ("2027-04-30", "2027-04-30", "2027-05-30", "120.98"),
        ("2027-05-31", "2027-05-31", "2027-06-29", "120.98"),
        ("2027-06-30", "2027-06-30", "2027-07-30", "120.98"),
        ("2027-07-31", "2027-07-31", "2027-08-30", "120.98"),
        ("2027-08-31", "2027-08-31", "2027-09-29", "120.98"),
        ("2027-09-30", "2027-09-30", "2027-10-30", "120.98"),
        ("2027-10-31", "2027-10-31", "2027-11-29", "120.98"),
        ("2027-11-30", "2027-11-30", "2027-12-30", "120.98"),
        ("2027-12-31", "2027-12-31", "2028-01-30", "120.98"),
    ]
    numbers = list(
        Invoice.objects.filter(subscription=subscription).order_by("sequence").values_list("number", flat=True)
    )
    assert numbers == [f"INV-{n}" for n in range(1001, 1013)]


def test_in_a_leap_year_the_31st_bills_on_29_february(tenant_alpha):
    subscription = subscription_make(start=date(2028, 1, 31))
    subscriptions_bill_due(now=at(date(2028, 3, 31)))
    assert [r[0] for r in rows(subscription)] == ["2028-01-31", "2028-02-29", "2028-03-31"]


def test_a_year_of_quarterly_invoices_through_a_leap_february(tenant_alpha):
    # 299.00 at 9% (26.91) and 5 x 10.00 without VAT: 349.00 + 26.91 = 375.91.
    subscription = subscription_make(
        start=date(2027, 11, 30),
        frequency="quarterly",
        lines=(("Licence", "1", "299.00", "BTW 9%", None), ("Training", "5", "10.00", None, None)),
    )
    subscriptions_bill_due(now=at(date(2028, 11, 29)))
    assert rows(subscription) == [
        ("2027-11-30", "2027-11-30", "2028-02-28", "375.91"),
        ("2028-02-29", "2028-02-29", "2028-05-29", "375.91"),
        ("2028-05-30", "2028-05-30", "2028-08-29", "375.91"),
        ("2028-08-30", "2028-08-30", "2028-11-29", "375.91"),
    ]


def test_annual_invoices_from_a_leap_day_start(tenant_alpha):
    # 1,200.00 NOK at MVA 25%: 1,500.00 a year; back on 29 February in the next leap year.
    subscription = subscription_make(
        start=date(2028, 2, 29), frequency="annual", currency="NOK", lines=(("Plan", "1", "1200.00", "MVA 25%", None),)
    )
    subscriptions_bill_due(now=at(date(2032, 3, 1), zone="Europe/Oslo"))
    assert rows(subscription) == [
        ("2028-02-29", "2028-02-29", "2029-02-27", "1500.00"),
        ("2029-02-28", "2029-02-28", "2030-02-27", "1500.00"),
        ("2030-02-28", "2030-02-28", "2031-02-27", "1500.00"),
        ("2031-02-28", "2031-02-28", "2032-02-28", "1500.00"),
        ("2032-02-29", "2032-02-29", "2033-02-27", "1500.00"),
    ]


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/Amsterdam", date(2027, 3, 28)),  # clocks go forward at 02:00
        ("Europe/Amsterdam", date(2027, 10, 31)),  # and back at 03:00
        ("Europe/Oslo", date(2027, 3, 28)),
        ("Europe/Oslo", date(2027, 10, 31)),
    ],
)
def test_on_a_dst_change_day_the_0030_run_bills_that_days_periods(tenant_alpha, zone, day):
    """00:30 local on the day of a DST change is still the previous day in UTC: the tenant's date decides."""
    tenant_timezone_set(zone)
    subscription = subscription_make(start=day)
    assert subscriptions_bill_due(now=at(day.replace(day=day.day - 1), 23, 59, zone)).invoices == 0
    result = subscriptions_bill_due(now=at(day, 0, 30, zone))
    assert at(day, 0, 30, zone).astimezone(ZoneInfo("UTC")).date() < day
    assert result.invoices == 1
    assert rows(subscription)[0][:2] == (day.isoformat(), day.isoformat())


def test_a_trial_bills_its_first_period_on_the_trials_end_after_one_reminder(tenant_alpha):
    subscription = subscription_make(start=date(2027, 3, 1), trial_end=date(2027, 3, 15))
    for day in range(1, 12):
        assert subscriptions_bill_due(now=at(date(2027, 3, day))).trial_notices == 0
    assert subscriptions_bill_due(now=at(date(2027, 3, 12))).trial_notices == 1  # three days before
    assert subscriptions_bill_due(now=at(date(2027, 3, 13))).trial_notices == 0  # once
    email = OutgoingEmail.objects.get(subject__contains="trial")
    assert email.subject == "Your trial of Plan (monthly) from Alpha Handel B.V. ends soon"
    assert "ends on 15 March 2027" in email.text and "121.00" in email.text
    assert Invoice.objects.filter(subscription=subscription).count() == 0
    subscriptions_bill_due(now=at(date(2027, 4, 15)))
    assert rows(subscription) == [
        ("2027-03-15", "2027-03-15", "2027-04-14", "121.00"),
        ("2027-04-15", "2027-04-15", "2027-05-14", "121.00"),
    ]


def test_a_coupon_for_three_periods_then_full_price(tenant_alpha):
    coupon = coupon_make(percent="20", duration="repeating", periods=3)
    subscription = subscription_make(start=date(2027, 1, 1), coupon=coupon, coupon_periods_left=3)
    subscriptions_bill_due(now=at(date(2027, 5, 1)))
    assert [r[3] for r in rows(subscription)] == ["96.80", "96.80", "96.80", "121.00", "121.00"]
    subscription.refresh_from_db()
    assert subscription.coupon_periods_left == 0 and subscription.mrr == D("100.00")
    first = Invoice.objects.filter(subscription=subscription).order_by("period_start").first()
    assert first.snapshot["adjustments"] == [
        {"kind": "discount", "label": "Welcome", "percent": "20.0000", "amount": "20.00"}
    ]


def test_a_twelve_month_term_bills_twelve_times_then_ends(tenant_alpha):
    subscription = subscription_make(
        start=date(2027, 1, 15), term_periods=12, lines=(("Hosting", "1", "100.00", "BTW 21%", 12),)
    )
    subscriptions_bill_due(now=at(date(2027, 12, 15)))
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE and subscription.periods_billed == 12
    assert subscriptions_bill_due(now=at(date(2028, 1, 15))).ended == 1
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ENDED and subscription.ended_at is not None
    assert len(rows(subscription)) == 12 and rows(subscription)[-1][0] == "2027-12-15"
    assert subscription.mrr == D("0.00")
    assert list(subscription.events.values_list("kind", flat=True)).count("invoiced") == 12


def test_cancel_at_period_end_bills_nothing_more(tenant_alpha):
    subscription = subscription_make(start=date(2027, 1, 10))
    subscriptions_bill_due(now=at(date(2027, 2, 10)))
    Subscription.objects.filter(pk=subscription.pk).update(cancel_at_period_end=True)
    result = subscriptions_bill_due(now=at(date(2027, 6, 1)))
    subscription.refresh_from_db()
    assert (result.invoices, result.canceled) == (0, 1)
    assert subscription.status == SubscriptionStatus.CANCELED and subscription.canceled_at is not None
    assert [r[0] for r in rows(subscription)] == ["2027-01-10", "2027-02-10"]


def test_paused_bills_nothing_and_resumes_on_its_date_with_periods_from_then(tenant_alpha):
    subscription = subscription_make(start=date(2027, 1, 10))
    subscriptions_bill_due(now=at(date(2027, 1, 10)))
    Subscription.objects.filter(pk=subscription.pk).update(
        status=SubscriptionStatus.PAUSED, resume_on=date(2027, 4, 20)
    )
    assert subscriptions_bill_due(now=at(date(2027, 4, 19))).invoices == 0
    result = subscriptions_bill_due(now=at(date(2027, 5, 20)))
    assert result.resumed == 1
    assert [r[:3] for r in rows(subscription)] == [
        ("2027-01-10", "2027-01-10", "2027-02-09"),
        ("2027-04-20", "2027-04-20", "2027-05-19"),
        ("2027-05-20", "2027-05-20", "2027-06-19"),
    ]
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE and subscription.periods_billed == 3


def test_scheduled_becomes_active_on_its_start_and_each_invoice_is_finalized_once(tenant_alpha):
    subscription = subscription_make(start=date(2027, 6, 1), status=SubscriptionStatus.SCHEDULED)
    assert subscriptions_bill_due(now=at(date(2027, 5, 31))).invoices == 0
    result = subscriptions_bill_due(now=at(date(2027, 6, 1)))
    assert (result.activated, result.invoices) == (1, 1)
    assert subscriptions_bill_due(now=at(date(2027, 6, 1))).invoices == 0
    invoice = Invoice.objects.get(subscription=subscription)
    assert invoice.status == InvoiceStatus.OPEN and invoice.number == "INV-1001"
    assert invoice.snapshot["number"] == "INV-1001" and invoice.due_date == date(2027, 6, 15)
    assert invoice.line_items.count() == 1 and list(invoice.contacts.all()) == [subscription.contact]
    assert invoice.ledger_entries.get().amount == D("121.00")
