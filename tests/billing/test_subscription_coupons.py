"""Coupons: created with their rules checked (percent 0 to 100, an amount with its currency, repeating needs
periods, unique codes), archived but never deleted once used, and their list and form pages."""

from datetime import date
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from billing.models import Coupon
from billing.services.coupons import CouponValues, coupon_archive, coupon_create, coupon_delete
from billing.services.subscription_changes import subscription_coupon_apply
from commerce_hub.accounts.models import Role
from tests.billing.invoicing import form_key, key
from tests.billing.quote_builder_data import client_for, text_of
from tests.billing.subscribing import subscription_make


def test_a_percentage_coupon_for_three_periods(tenant_alpha, admin_user):
    coupon = coupon_create(
        values=CouponValues(
            name="Spring", code="spring-25", percent_off=D("25"), duration="repeating", duration_periods=3
        ),
        actor=admin_user,
    )
    assert (coupon.code, coupon.percent_off, coupon.amount_off, coupon.duration_periods) == (
        "SPRING-25",
        D("25"),
        None,
        3,
    )


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"percent_off": D("0")}, "percent_off", "above 0 and at most 100"),
        ({"percent_off": D("100.01")}, "percent_off", "above 0 and at most 100"),
        ({"percent_off": D("-5")}, "percent_off", "above 0 and at most 100"),
        ({"percent_off": None, "amount_off": D("10")}, "currency", "needs its currency"),
        ({"percent_off": None, "amount_off": D("-10"), "currency": "EUR"}, "amount_off", "above zero"),
        ({"percent_off": None, "amount_off": D("10.001"), "currency": "EUR"}, "amount_off", ""),
        ({"percent_off": D("10"), "amount_off": D("10"), "currency": "EUR"}, "percent_off", "either"),
        ({"duration": "repeating"}, "duration_periods", "how many periods"),
        ({"name": " "}, "name", "name"),
        ({"code": "no spaces!"}, "code", "letters, digits"),
    ],
)
def test_bad_coupons_are_refused_with_the_field_that_caused_it(tenant_alpha, admin_user, values, field, message):
    data = {"name": "Deal", "percent_off": D("10"), "duration": "once"} | values
    with pytest.raises(ValidationError) as caught:
        coupon_create(values=CouponValues(**data), actor=admin_user)
    assert message in " ".join(caught.value.message_dict[field])
    assert not Coupon.objects.exists()


def test_codes_are_unique_whatever_their_case(tenant_alpha, admin_user):
    coupon_create(values=CouponValues(name="A", code="WELCOME", percent_off=D("5"), duration="once"), actor=admin_user)
    with pytest.raises(ValidationError, match="Another coupon has this code"):
        coupon_create(
            values=CouponValues(name="B", code="welcome", percent_off=D("5"), duration="once"), actor=admin_user
        )


def test_a_used_coupon_is_archived_never_deleted_and_stays_on_its_subscriptions(tenant_alpha, admin_user):
    coupon = coupon_create(
        values=CouponValues(name="Partner", percent_off=D("10"), duration="forever"), actor=admin_user
    )
    subscription = subscription_make(start=date(2027, 1, 1))
    subscription_coupon_apply(subscription=subscription, coupon=coupon, actor=admin_user)
    with pytest.raises(ValidationError, match="archive it instead"):
        coupon_delete(coupon=coupon, actor=admin_user)
    coupon_archive(coupon=coupon, actor=admin_user)
    with pytest.raises(ValidationError):
        coupon_archive(coupon=coupon, actor=admin_user)
    subscription.refresh_from_db()
    assert subscription.coupon_id == coupon.pk and not Coupon.objects.get(pk=coupon.pk).active
    unused = coupon_create(values=CouponValues(name="Never", percent_off=D("1"), duration="once"), actor=admin_user)
    coupon_delete(coupon=unused, actor=admin_user)
    assert not Coupon.objects.filter(pk=unused.pk).exists()


def test_the_coupon_pages(tenant_alpha):
    finance = client_for(Role.FINANCE)
    assert "No coupons yet" in text_of(finance.get("/billing/subscriptions/coupons/"))
    page = finance.get("/billing/subscriptions/coupons/new/")
    data = {
        "name": "Kroner off",
        "code": "",
        "kind": "amount",
        "amount_off": "150",
        "currency": "NOK",
        "duration": "repeating",
        "duration_periods": "2",
        "idempotency_key": form_key(page),
    }
    assert finance.post("/billing/subscriptions/coupons/new/", data).status_code == 302
    assert finance.post("/billing/subscriptions/coupons/new/", data).status_code == 302  # the same form again
    coupon = Coupon.objects.get()
    assert (coupon.amount_off, coupon.currency, coupon.duration_periods) == (D("150"), "NOK", 2)
    text = text_of(finance.get("/billing/subscriptions/coupons/"))
    assert "Kroner off — NOK150.00 For 2 periods 0 Active" in text.replace("\xa0", "")
    bad = finance.post(
        "/billing/subscriptions/coupons/new/", {**data, "kind": "percent", "percent_off": "120", **key()}
    )
    assert bad.status_code == 400 and "above 0 and at most 100" in text_of(bad)
    finance.post(f"/billing/subscriptions/coupons/{coupon.pk}/archive/", key())
    assert not Coupon.objects.get(pk=coupon.pk).active
    viewer = client_for(Role.READ_ONLY)
    assert viewer.get("/billing/subscriptions/coupons/").status_code == 200
    assert viewer.post("/billing/subscriptions/coupons/new/", {**data, **key()}).status_code == 403
