"""A credit for unused days follows what the period was billed: a coupon used up on that period still discounts
the credit, an amount-off coupon lowers it, and a coupon applied after the period was billed does not."""

from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from billing.models import Invoice
from billing.services import subscription_changes as changes
from billing.services.subscription_billing import subscriptions_bill_due
from tests.billing.subscribing import coupon_make, subscription_make

AMS = ZoneInfo("Europe/Amsterdam")


def _billed_january(**kwargs):
    subscription = subscription_make(start=date(2027, 1, 1), **kwargs)
    subscriptions_bill_due(now=datetime(2027, 1, 1, 12, tzinfo=AMS), subscription_ids=[subscription.pk])
    subscription.refresh_from_db()
    return subscription


def test_a_free_first_month_gives_no_credit_when_canceled_in_it(tenant_alpha):
    free = coupon_make(percent="100", duration="once", name="First month free")
    subscription = _billed_january(coupon=free, coupon_periods_left=1)
    assert Invoice.objects.get(subscription=subscription).total == D("0.00")
    assert subscription.coupon_periods_left == 0
    preview = changes.cancel_credit_preview(subscription=subscription, on=date(2027, 1, 15))
    assert preview.credit.total == D("0.00")


def test_a_half_price_last_coupon_period_credits_half_of_the_unused_days(tenant_alpha):
    half = coupon_make(percent="50", duration="once", name="Half")
    subscription = _billed_january(coupon=half, coupon_periods_left=1)
    assert Invoice.objects.get(subscription=subscription).total == D("60.50")
    preview = changes.cancel_credit_preview(subscription=subscription, on=date(2027, 1, 15))
    assert preview.credit.total == D("33.18")  # 60.50 * 17/31, VAT included


def test_an_amount_off_coupon_lowers_the_credit_in_proportion(tenant_alpha):
    off = coupon_make(amount="75", currency="EUR", duration="once", name="75 off")
    subscription = _billed_january(coupon=off, coupon_periods_left=1)
    assert Invoice.objects.get(subscription=subscription).total == D("30.25")  # (100 - 75) + 21%
    preview = changes.cancel_credit_preview(subscription=subscription, on=date(2027, 1, 15))
    assert preview.credit.total == D("16.59")  # 30.25 * 17/31, never the full-price 66.36


def test_a_coupon_applied_after_the_period_was_billed_leaves_its_credit_whole(tenant_alpha, admin_user):
    subscription = _billed_january()
    coupon = coupon_make(percent="50", duration="forever", name="Partner")
    changes.subscription_coupon_apply(subscription=subscription, coupon=coupon, actor=admin_user)
    subscription.refresh_from_db()
    preview = changes.cancel_credit_preview(subscription=subscription, on=date(2027, 1, 15))
    assert preview.credit.total == D("66.36")
