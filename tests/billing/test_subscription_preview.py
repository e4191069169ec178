"""The upcoming invoice of a subscription: its period, lines, coupon and totals as the billing run will bill them,
and its MRR from the pricing engine."""

from datetime import date
from decimal import Decimal as D

from django.template.loader import render_to_string
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.billing_calendar import period_bounds
from billing.models import Subscription, SubscriptionStatus
from billing.pricing import FREQUENCY_RULES
from billing.selectors.invoices import document_for_display
from billing.subscription_invoices import period_bounds_of, subscription_invoice_preview, subscription_mrr
from tests.billing.subscribing import coupon_make, subscription_make


def test_the_preview_shows_the_next_period_with_its_lines_and_totals(tenant_alpha):
    subscription = subscription_make(
        start=date(2027, 1, 31), lines=(("Hosting", "2", "50.00", "BTW 21%", None), ("Support", "1", "30", None, None))
    )
    preview = subscription_invoice_preview(subscription=subscription)
    assert (preview.period_start, preview.period_end, preview.billing_date) == (
        date(2027, 1, 31),
        date(2027, 2, 27),
        date(2027, 1, 31),
    )
    assert [line.name for line in preview.lines] == ["Hosting", "Support"]
    assert (preview.summary.subtotal, preview.summary.vat_total, preview.total) == (
        D("130.00"),
        D("21.00"),
        D("151.00"),
    )
    assert preview.document["total"] == "151.00" and preview.document["number"] is None
    html = render_to_string("billing/invoices/_document.html", {"document": document_for_display(preview.document)})
    assert "Hosting" in html and "151" in html


def test_a_coupon_is_a_discount_in_the_summary_and_lowers_mrr_only_when_forever(tenant_alpha):
    coupon = coupon_make(percent="20", duration="repeating", periods=3)
    subscription = subscription_make(start=date(2027, 3, 1), coupon=coupon, coupon_periods_left=3)
    preview = subscription_invoice_preview(subscription=subscription)
    assert [(a.label, a.amount) for a in preview.summary.adjustments] == [("Welcome", D("20.00"))]
    assert preview.total == D("96.80")  # (100 - 20) + 21% VAT
    assert subscription_mrr(subscription) == D("100.00")
    forever = coupon_make(amount="25", currency="EUR", duration="forever", name="Partner")
    subscription.coupon, subscription.coupon_periods_left = forever, None
    assert subscription_mrr(subscription) == D("75.00")
    # An amount off in another currency takes nothing off.
    subscription.coupon = coupon_make(amount="25", currency="NOK", duration="forever", name="Kroner")
    preview = subscription_invoice_preview(subscription=subscription)
    assert preview.summary.adjustments == () and preview.total == D("121.00")


def test_no_preview_when_nothing_comes(tenant_alpha):
    subscription = subscription_make(start=date(2027, 3, 1), cancel_at_period_end=True)
    assert subscription_invoice_preview(subscription=subscription) is None
    subscription.cancel_at_period_end = False
    subscription.status = SubscriptionStatus.ENDED
    assert subscription_invoice_preview(subscription=subscription) is None
    assert subscription_mrr(subscription) == D("0.00")


@settings(max_examples=300, deadline=None)
@given(
    start=st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)),
    frequency=st.sampled_from([f.value for f in FREQUENCY_RULES if f.value != "one_time"]),
    index=st.integers(0, 150),
)
def test_the_invoice_calendar_is_the_subscription_calendar(start, frequency, index):
    subscription = Subscription(frequency=frequency, billing_anchor=start, anchor_day=start.day)
    assert period_bounds_of(subscription, index) == period_bounds(start=start, frequency=frequency, index=index)
