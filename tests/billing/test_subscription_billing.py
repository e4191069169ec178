"""The billing run around the invoices it makes: customer credit applied before charging, automatic collection or
email after commit, what it leaves on timelines and in the outbox, subscriptions it cannot bill, and the test clock.
Plus the calendar's invariants for any frequency, start and run times (hypothesis)."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import subscription_collection
from billing.models import Invoice, InvoiceStatus, LineItem, Subscription, SubscriptionEvent, SubscriptionStatus
from billing.selectors.receivables import Account, invoice_figures
from billing.services import subscription_clock
from billing.services.numbering import numbers_take
from billing.services.receivables import customer_credit_add
from billing.services.subscription_billing import subscriptions_bill_due
from billing.services.subscription_clock import subscription_clock_advance, subscription_test_mode_register
from billing.subscription_collection import subscription_collector_register
from commerce_hub.events.models import OutboxEvent, OutgoingEmail
from tests.billing.subscribing import subscription_make

ZONE = ZoneInfo("Europe/Amsterdam")


def at(day: date, hour=0, minute=30) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


@pytest.fixture
def collector(monkeypatch):
    # monkeypatch puts back the collector payments registered, for the tests that run after this one.
    handed: list[list[int]] = []
    monkeypatch.setattr(subscription_collection, "_collector", None)
    subscription_collector_register(lambda *, invoice_ids: handed.append(list(invoice_ids)))
    return handed


@pytest.fixture
def test_mode(monkeypatch):
    monkeypatch.setattr(subscription_clock, "_test_mode", None)
    subscription_test_mode_register(lambda: True)


def test_charged_automatically_the_invoice_goes_to_the_collector_after_commit(
    tenant_alpha, collector, django_capture_on_commit_callbacks
):
    subscription = subscription_make(
        start=date(2027, 1, 1), collection_method="charge_automatically", payment_method_ref="pm_test_1"
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = subscriptions_bill_due(now=at(date(2027, 2, 1)))
    assert collector == []  # nothing is charged before the batch commits
    for callback in callbacks:
        callback()
    invoices = list(Invoice.objects.filter(subscription=subscription).order_by("period_start"))
    assert collector == [[i.pk for i in invoices]] and result.collected == 2 and result.emailed == 0
    assert {i.due_date == i.issue_date for i in invoices} == {True}  # due when charged


def test_without_a_collector_or_a_saved_method_the_invoice_is_emailed(
    tenant_alpha, eager_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(subscription_collection, "_collector", None)  # no app collects automatically
    subscription_make(start=date(2027, 1, 1), collection_method="charge_automatically", payment_method_ref="pm_1")
    with django_capture_on_commit_callbacks(execute=True):
        result = subscriptions_bill_due(now=at(date(2027, 1, 1)))
    assert (result.collected, result.emailed) == (0, 1)
    invoice = Invoice.objects.get()
    assert invoice.sent_at is not None
    email = OutgoingEmail.objects.get(subject__startswith="Invoice")
    assert email.subject == "Invoice INV-1001 from Alpha Handel B.V." and email.to == "buyer-0@example.com"
    # The email task run again sends nothing twice.
    from billing.services.subscription_billing import subscription_invoices_send

    assert subscription_invoices_send(invoice_ids=[invoice.pk]) == 0


def test_customer_credit_is_applied_before_charging_and_a_covered_invoice_is_never_charged(
    tenant_alpha, collector, django_capture_on_commit_callbacks
):
    first = subscription_make(start=date(2027, 1, 1), collection_method="charge_automatically", payment_method_ref="p")
    customer_credit_add(
        account=Account(company_id=first.company_id), currency="EUR", amount=D("50"), reason="Goodwill", actor=None
    )
    second = subscription_make(start=date(2027, 1, 1), collection_method="charge_automatically", payment_method_ref="p")
    customer_credit_add(
        account=Account(company_id=second.company_id), currency="EUR", amount=D("200"), reason="Prepaid", actor=None
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = subscriptions_bill_due(now=at(date(2027, 1, 1)))
    partly = Invoice.objects.get(subscription=first)
    covered = Invoice.objects.get(subscription=second)
    assert partly.status == InvoiceStatus.OPEN and invoice_figures(partly).due == D("71.00")
    assert covered.status == InvoiceStatus.PAID and covered.paid_at is not None and invoice_figures(covered).due == 0
    assert collector == [[partly.pk]]
    assert result.settled_by_credit == 1
    assert list(covered.events.values_list("kind", flat=True)) == ["finalized", "credit_applied"]
    assert OutboxEvent.objects.filter(name="invoice.paid", payload__id=covered.pk).count() == 1


def test_the_run_leaves_timelines_events_and_a_current_mrr(tenant_alpha):
    subscription = subscription_make(
        start=date(2027, 1, 1), status=SubscriptionStatus.SCHEDULED, frequency="weekly",
        lines=(("Seats", "10", "5.00", None, None),),
    )  # fmt: skip
    subscriptions_bill_due(now=at(date(2027, 1, 8)))
    subscription.refresh_from_db()
    assert subscription.mrr == D("216.50")  # 50.00 a week x 4.33
    assert list(subscription.events.values_list("kind", flat=True)) == ["activated", "invoiced", "invoiced"]
    names = list(OutboxEvent.objects.order_by("id").values_list("name", flat=True))
    assert names.count("subscription.invoiced") == 2 and names.count("invoice.finalized") == 2
    assert names.count("subscription.activated") == 1


def test_a_subscription_that_cannot_be_billed_is_left_as_it_was_and_the_others_are_billed(tenant_alpha):
    broken = subscription_make(start=date(2027, 1, 1))
    LineItem.objects.filter(subscription=broken).update(currency="NOK")  # not the subscription's currency
    fine = subscription_make(start=date(2027, 1, 1))
    result = subscriptions_bill_due(now=at(date(2027, 1, 1)))
    assert [pk for pk, _why in result.failed] == [broken.pk] and result.invoice_ids
    broken.refresh_from_db()
    assert broken.periods_billed == 0 and broken.next_billing_date == date(2027, 1, 1)
    assert Invoice.objects.get().subscription_id == fine.pk
    assert not SubscriptionEvent.objects.filter(subscription=broken).exists()


def test_a_period_billed_by_another_path_is_stepped_over_not_billed_twice(tenant_alpha):
    subscription = subscription_make(start=date(2027, 1, 1))
    subscriptions_bill_due(now=at(date(2027, 1, 1)))
    # As if the subscription's advance had been lost: the invoice for January is there.
    Subscription.objects.filter(pk=subscription.pk).update(next_period_index=0, next_billing_date=date(2027, 1, 1))
    result = subscriptions_bill_due(now=at(date(2027, 2, 1)))
    assert result.invoices == 1
    assert list(Invoice.objects.order_by("period_start").values_list("period_start", flat=True)) == [
        date(2027, 1, 1),
        date(2027, 2, 1),
    ]


def test_numbers_for_a_batch_are_consecutive_and_continue_the_series(tenant_alpha):
    from django.db import transaction

    with transaction.atomic():
        assert numbers_take(key="invoice", count=3) == [("INV-1001", 1001), ("INV-1002", 1002), ("INV-1003", 1003)]
        assert numbers_take(key="invoice", count=0) == []
        assert numbers_take(key="invoice", count=1) == [("INV-1004", 1004)]


def test_the_hourly_run_leaves_a_subscription_on_a_test_clock_alone(tenant_alpha):
    subscription = subscription_make(start=date(2027, 1, 1), test_clock=at(date(2026, 12, 1)))
    assert subscriptions_bill_due(now=at(date(2027, 3, 1))).invoices == 0
    assert subscriptions_bill_due(now=at(date(2027, 1, 1)), subscription_ids=[subscription.pk]).invoices == 1


def test_moving_the_clock_lives_through_the_trial_notice_periods_and_the_end(tenant_alpha, test_mode):
    subscription = subscription_make(
        start=date(2027, 3, 1),
        trial_end=date(2027, 3, 15),
        term_periods=3,
        lines=(("Hosting", "1", "100.00", "BTW 21%", 3),),
        test_clock=at(date(2027, 3, 1)),
    )
    result = subscription_clock_advance(subscription=subscription, to=at(date(2027, 7, 1), 12, 0), actor=None)
    assert result.trial_notices == 1 and result.invoices == 3 and result.ended == 1
    assert list(Invoice.objects.order_by("period_start").values_list("issue_date", flat=True)) == [
        date(2027, 3, 15),
        date(2027, 4, 15),
        date(2027, 5, 15),
    ]
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ENDED and subscription.test_clock == at(date(2027, 7, 1), 12, 0)
    notice = subscription.events.get(kind="trial_notice_sent")
    assert notice.at.astimezone(ZONE).date() == date(2027, 3, 12)  # on its own simulated day
    assert subscription.events.filter(kind="clock_advanced").count() == 1
    with pytest.raises(ValidationError):
        subscription_clock_advance(subscription=subscription, to=at(date(2027, 6, 1)), actor=None)


def test_the_clock_moves_only_in_test_mode(tenant_alpha, monkeypatch):
    monkeypatch.setattr(subscription_clock, "_test_mode", lambda: False)  # a tenant taking live payments
    subscription = subscription_make(start=date(2027, 1, 1))
    with pytest.raises(ValidationError, match="test mode"):
        subscription_clock_advance(subscription=subscription, to=at(date(2027, 2, 1)), actor=None)
    assert Invoice.objects.count() == 0


# --- the calendar's invariants ----------------------------------------------------------------------------------------

FREQUENCIES = ["weekly", "biweekly", "monthly", "quarterly", "semiannual", "annual"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    frequency=st.sampled_from(FREQUENCIES),
    start=st.dates(min_value=date(2027, 1, 1), max_value=date(2028, 12, 31)),
    gaps=st.lists(st.integers(min_value=0, max_value=200), min_size=1, max_size=6),
    hour=st.integers(min_value=0, max_value=23),
)
def test_invoice_dates_strictly_increase_and_every_period_is_billed_once_without_gaps(
    tenant_alpha, frequency, start, gaps, hour
):
    subscription = subscription_make(start=start, frequency=frequency)
    moment = at(start - timedelta(days=1), hour)
    for gap in gaps:  # runs at random times, some on the same day, some months apart
        moment += timedelta(days=gap, hours=hour)
        subscriptions_bill_due(now=moment, subscription_ids=[subscription.pk])
    last_day = moment.astimezone(ZONE).date()
    invoices = list(Invoice.objects.filter(subscription=subscription).order_by("period_start"))
    dates = [i.issue_date for i in invoices]
    assert dates == sorted(set(dates))  # strictly increasing, each once
    for earlier, later in zip(invoices, invoices[1:], strict=False):
        assert earlier.period_end + timedelta(days=1) == later.period_start  # never skipped
    if invoices:
        assert invoices[0].period_start == start
        assert invoices[-1].period_start <= last_day
    subscription.refresh_from_db()
    assert subscription.next_billing_date > last_day or last_day < start  # nothing due is left behind
    assert subscription.periods_billed == len(invoices)
