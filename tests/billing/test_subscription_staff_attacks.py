"""Hostile input on the staff forms of a subscription: resume dates in the past or at the end of the calendar,
canceling twice, coupons of 101% or absurd amounts, and moving the test clock backwards or a century ahead never give
a 500 and never bill anything they should not."""

from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import Coupon, Invoice, Subscription
from commerce_hub.accounts.models import Role
from tests.billing.invoicing import form_key, key
from tests.billing.quote_builder_data import client_for
from tests.billing.test_subscription_record import billed_this_month, url


@pytest.fixture
def admin(tenant_alpha):
    return client_for(Role.ADMIN)


@pytest.mark.parametrize("resume_on", ["2000-01-01", "9999-12-31", "0001-01-01", "31/02/2027", "\x00", "9" * 5000])
def test_pause_with_odd_resume_dates(admin, resume_on):
    subscription = billed_this_month()
    response = admin.post(url(subscription, "pause/"), {"resume_on": resume_on, **key()})
    assert response.status_code in (302, 400)
    if resume_on == "2000-01-01":
        assert response.status_code == 400
        assert Subscription.objects.get(pk=subscription.pk).status == "active"


def test_cancel_twice_cancels_once(admin):
    subscription = billed_this_month()
    assert admin.post(url(subscription, "cancel/"), {"when": "now", "reason": "x", **key()}).status_code == 302
    response = admin.post(url(subscription, "cancel/"), {"when": "now", "reason": "x", **key()})
    assert response.status_code in (302, 400, 409)
    assert Subscription.objects.get(pk=subscription.pk).status == "canceled"


@pytest.mark.parametrize("expected", ["1e400", "NaN", "-Infinity", "\x00", "9" * 5000])
def test_cancel_with_an_absurd_expected_credit(admin, expected):
    subscription = billed_this_month()
    data = {"when": "now", "credit": "on", "expected_credit": expected, **key()}
    assert admin.post(url(subscription, "cancel/"), data).status_code in (302, 400, 409)


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "percent", "percent_off": "101"},
        {"kind": "percent", "percent_off": "100.00001"},
        {"kind": "percent", "percent_off": "NaN"},
        {"kind": "percent", "percent_off": "-5"},
        {"kind": "amount", "amount_off": "1e400", "currency": "EUR"},
        {"kind": "amount", "amount_off": "0.001", "currency": "EUR"},
        {"kind": "amount", "amount_off": "10", "currency": "XXX"},
        {"kind": "amount", "amount_off": "10", "currency": ""},
    ],
)
def test_an_absurd_coupon_is_refused_inline(tenant_alpha, fields):
    finance = client_for(Role.FINANCE)
    page = finance.get("/billing/subscriptions/coupons/new/")
    data = {"name": "Odd", "duration": "once", "idempotency_key": form_key(page), **fields}
    response = finance.post("/billing/subscriptions/coupons/new/", data)
    assert response.status_code in (200, 400, 422)
    assert not Coupon.objects.exists()


def test_an_amount_coupon_in_another_currency_is_refused_on_the_subscription(admin):
    subscription = billed_this_month()
    nok = Coupon.objects.create(name="NOK off", amount_off=100, currency="NOK", duration="once")
    response = admin.post(url(subscription, "coupon/"), {"coupon": nok.pk, **key()})
    assert response.status_code in (200, 400)
    assert Subscription.objects.get(pk=subscription.pk).coupon_id is None


@pytest.mark.parametrize("days", [-40, 0, 365 * 100, None, 365 * 9])
def test_the_test_clock_backwards_or_a_century_ahead(admin, monkeypatch, days):
    from billing.services import subscription_clock

    monkeypatch.setattr(subscription_clock, "_test_mode", lambda: True)
    subscription = billed_this_month()
    to = "9999-12-31" if days is None else (timezone.localdate() + timedelta(days=days)).isoformat()
    response = admin.post(url(subscription, "simulate/"), {"to": to, **key()})
    assert response.status_code in (302, 400)
    if days is None or days <= 0 or days > 3653:
        assert response.status_code == 400
        assert Invoice.objects.filter(subscription=subscription).count() == 1
        assert Subscription.objects.get(pk=subscription.pk).test_clock is None


@pytest.mark.parametrize(
    ("quantity", "price"),
    [("1" + "0" * 30, "100"), ("NaN", "100"), ("-1", "100"), ("1", "1e400"), ("1", "-0.01"), ("\x00", "1"), ("0", "0")],
)
def test_absurd_item_changes_are_refused(admin, quantity, price):
    from billing.models import LineItem

    subscription = billed_this_month()
    line = LineItem.objects.get(subscription=subscription)
    data = {
        f"quantity_{line.pk}": quantity,
        f"unit_price_{line.pk}": price,
        "add-TOTAL_FORMS": "0",
        "add-INITIAL_FORMS": "0",
        "confirm": "1",
        "expected_credit": "0",
        "expected_charge": "0",
        **key(),
    }
    response = admin.post(url(subscription, "change/"), data)
    assert response.status_code in (200, 400, 409)
    line.refresh_from_db()
    assert (line.quantity, line.unit_price) == (1, 100)
    assert Invoice.objects.filter(subscription=subscription).count() == 1
