"""Changes to a subscription by staff: pause and resume, cancel now (with a credit for the unused days) or at the
period's end, items changed with proration, coupons. Each is a guarded transition with a timeline row and a domain
event; the amounts are exact."""

from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from billing.models import Invoice, LineItem, Product, ProductPrice, Subscription, SubscriptionEvent, TaxRate
from billing.selectors.receivables import Account, credit_available, invoice_figures
from billing.services import subscription_changes as changes
from billing.services.subscription_billing import subscriptions_bill_due
from commerce_hub.events.models import OutboxEvent
from tests.billing.subscribing import coupon_make, subscription_make

AMS = ZoneInfo("Europe/Amsterdam")


def billed_january(**kwargs) -> Subscription:
    """A monthly 100.00 + 21% VAT subscription whose first period, 1 to 31 January 2027, is billed."""
    subscription = subscription_make(start=date(2027, 1, 1), **kwargs)
    subscriptions_bill_due(now=datetime(2027, 1, 1, 12, tzinfo=AMS), subscription_ids=[subscription.pk])
    subscription.refresh_from_db()
    assert (subscription.current_period_start, subscription.current_period_end) == (date(2027, 1, 1), date(2027, 1, 31))
    return subscription


def product_make(name="Seats", frequency="monthly", price="100.00", currency="EUR"):
    product = Product.objects.create(
        name=name, sku=name.upper()[:6], billing_frequency=frequency, tax_rate=TaxRate.objects.get(name="BTW 21%")
    )
    ProductPrice.objects.create(product=product, currency=currency, unit_price=D(price))
    return product


def events_named(name):
    return list(OutboxEvent.objects.filter(name=name).values_list("payload", flat=True))


def test_pause_stops_billing_and_resume_starts_a_new_period_that_day(tenant_alpha, admin_user):
    subscription = billed_january()
    changes.subscription_pause(
        subscription=subscription, actor=admin_user, resume_on=date(2027, 3, 1), today=date(2027, 1, 10)
    )
    subscription.refresh_from_db()
    assert (subscription.status, subscription.resume_on) == ("paused", date(2027, 3, 1))
    assert events_named("subscription.paused")[0]["resume_on"] == "2027-03-01"

    changes.subscription_resume(subscription=subscription, actor=admin_user, on=date(2027, 2, 17))
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert (subscription.billing_anchor, subscription.anchor_day, subscription.next_billing_date) == (
        date(2027, 2, 17),
        17,
        date(2027, 2, 17),
    )
    assert (subscription.next_period_index, subscription.periods_billed, subscription.resume_on) == (0, 1, None)
    kinds = list(SubscriptionEvent.objects.filter(subscription=subscription).values_list("kind", "actor_id"))
    assert ("paused", admin_user.pk) in kinds and ("resumed", admin_user.pk) in kinds
    assert events_named("subscription.resumed") == [{"id": subscription.pk, "on": "2027-02-17", "actor": admin_user.pk}]


def test_a_paused_subscription_cannot_be_paused_again_and_a_resume_date_must_be_later(tenant_alpha, admin_user):
    subscription = billed_january()
    with pytest.raises(ValidationError):
        changes.subscription_pause(
            subscription=subscription, actor=admin_user, resume_on=date(2027, 1, 9), today=date(2027, 1, 10)
        )
    changes.subscription_pause(subscription=subscription, actor=admin_user, today=date(2027, 1, 10))
    with pytest.raises(ValidationError, match="changed meanwhile"):
        changes.subscription_pause(subscription=Subscription.objects.get(pk=subscription.pk), actor=admin_user)
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="paused").count() == 1


def test_cancel_now_credits_the_unused_days_to_the_customer(tenant_alpha, admin_user):
    subscription = billed_january()
    preview = changes.cancel_credit_preview(subscription=subscription, on=date(2027, 1, 15))
    assert (preview.days_left, preview.days_in_period, preview.credit.total) == (17, 31, D("66.36"))
    changes.subscription_cancel(
        subscription=subscription,
        actor=admin_user,
        credit=True,
        reason="Moved to a competitor",
        on=date(2027, 1, 15),
        expected_credit=D("66.36"),
    )
    subscription.refresh_from_db()
    assert (subscription.status, subscription.mrr, subscription.cancel_reason) == (
        "canceled",
        D("0.00"),
        "Moved to a competitor",
    )
    assert credit_available(Account(company_id=subscription.company_id), "EUR") == D("66.36")
    assert events_named("subscription.canceled")[0]["credit"] == "66.36"


def test_cancel_with_a_credit_that_changed_since_the_confirmation_is_refused(tenant_alpha, admin_user):
    subscription = billed_january()
    with pytest.raises(ValidationError, match="credit changed"):
        changes.subscription_cancel(
            subscription=subscription, actor=admin_user, credit=True, on=date(2027, 1, 15), expected_credit=D("70")
        )
    assert Subscription.objects.get(pk=subscription.pk).status == "active"


def test_a_credit_needs_a_billed_period(tenant_alpha, admin_user):
    subscription = subscription_make(start=date(2027, 5, 1), status="scheduled")
    with pytest.raises(ValidationError, match="nothing to credit"):
        changes.subscription_cancel(subscription=subscription, actor=admin_user, credit=True, on=date(2027, 4, 2))


def test_cancel_at_period_end_can_be_undone_once(tenant_alpha, admin_user):
    subscription = billed_january()
    changes.subscription_cancel_at_period_end(subscription=subscription, actor=admin_user, reason="Budget")
    assert Subscription.objects.get(pk=subscription.pk).cancel_at_period_end is True
    with pytest.raises(ValidationError):
        changes.subscription_cancel_at_period_end(subscription=subscription, actor=admin_user)
    changes.subscription_cancel_undo(subscription=subscription, actor=admin_user)
    assert Subscription.objects.get(pk=subscription.pk).cancel_at_period_end is False
    with pytest.raises(ValidationError):
        changes.subscription_cancel_undo(subscription=subscription, actor=admin_user)
    assert [e["id"] for e in events_named("subscription.cancel_scheduled")] == [subscription.pk]


def test_doubling_the_quantity_mid_period_credits_and_invoices_the_exact_amounts(tenant_alpha, admin_user):
    subscription = billed_january()
    line = LineItem.objects.get(subscription=subscription)
    change = changes.ItemsChange(edits=[changes.LineEdit(line_id=line.pk, quantity=D(2), unit_price=D("100.00"))])
    preview = changes.subscription_change_preview(subscription=subscription, change=change, on=date(2027, 1, 15))
    assert (preview.credit, preview.charge, preview.proration.net) == (D("66.36"), D("132.71"), D("66.35"))
    _sub, invoice = changes.subscription_change_items(
        subscription=subscription,
        change=change,
        actor=admin_user,
        expected_credit=D("66.36"),
        expected_charge=D("132.71"),
        on=date(2027, 1, 15),
    )
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total, invoice.subscription_id, invoice.period_start) == (
        "open",
        D("132.71"),
        subscription.pk,
        None,
    )
    line_names = list(invoice.line_items.values_list("name", "unit_price"))
    assert line_names == [("Remaining time on Hosting", D("109.677419"))]
    # The credit for the unused days paid part of the new invoice at once.
    assert invoice_figures(invoice).due == D("66.35")
    assert credit_available(Account(company_id=subscription.company_id), "EUR") == D("0.00")
    subscription.refresh_from_db()
    assert subscription.mrr == D("200.00")
    assert LineItem.objects.get(pk=line.pk).quantity == D(2)
    event = SubscriptionEvent.objects.get(subscription=subscription, kind="changed")
    assert (event.data["credit"], event.data["charge"], event.data["invoice_id"]) == ("66.36", "132.71", invoice.pk)


def test_lowering_the_price_leaves_credit_for_the_next_invoice_and_invoices_the_rest(tenant_alpha, admin_user):
    subscription = billed_january()
    line = LineItem.objects.get(subscription=subscription)
    change = changes.ItemsChange(edits=[changes.LineEdit(line_id=line.pk, quantity=D(1), unit_price=D("40"))])
    preview = changes.subscription_change_preview(subscription=subscription, change=change, on=date(2027, 1, 22))
    # 10 of 31 days: 100 x 10/31 = 32.26 + 6.77 VAT; 40 x 10/31 = 12.90 + 2.71 VAT
    assert (preview.credit, preview.charge) == (D("39.03"), D("15.61"))
    changes.subscription_change_items(
        subscription=subscription,
        change=change,
        actor=admin_user,
        expected_credit=preview.credit,
        expected_charge=preview.charge,
        on=date(2027, 1, 22),
    )
    assert credit_available(Account(company_id=subscription.company_id), "EUR") == D("23.42")


def test_a_change_whose_amounts_moved_since_the_preview_is_refused_and_nothing_changes(tenant_alpha, admin_user):
    subscription = billed_january()
    line = LineItem.objects.get(subscription=subscription)
    change = changes.ItemsChange(edits=[changes.LineEdit(line_id=line.pk, quantity=D(3), unit_price=D("100"))])
    with pytest.raises(ValidationError, match="amounts changed"):
        changes.subscription_change_items(
            subscription=subscription,
            change=change,
            actor=admin_user,
            expected_credit=D("66.36"),
            expected_charge=D("132.71"),
            on=date(2027, 1, 15),
        )
    assert LineItem.objects.get(pk=line.pk).quantity == D(1)
    assert not Invoice.objects.filter(subscription=subscription, period_start__isnull=True).exists()


def test_before_the_first_billing_a_change_applies_without_proration(tenant_alpha, admin_user):
    subscription = subscription_make(start=date(2027, 6, 1), status="scheduled")
    seats = product_make()
    change = changes.ItemsChange(adds=[changes.LineAdd(product_id=seats.pk, quantity=D(5))])
    preview = changes.subscription_change_preview(subscription=subscription, change=change, on=date(2027, 5, 2))
    assert preview.proration is None and (preview.credit, preview.charge) == (D(0), D(0))
    _sub, invoice = changes.subscription_change_items(
        subscription=subscription,
        change=change,
        actor=admin_user,
        expected_credit=D(0),
        expected_charge=D(0),
        on=date(2027, 5, 2),
    )
    assert invoice is None
    assert list(LineItem.objects.filter(subscription=subscription).values_list("name", "quantity")) == [
        ("Hosting", D(1)),
        ("Seats", D(5)),
    ]
    assert Subscription.objects.get(pk=subscription.pk).mrr == D("600.00")


@pytest.mark.parametrize(
    ("product_kwargs", "message"),
    [
        ({"frequency": "one_time"}, "billed one time"),
        ({"frequency": "annual"}, "billed annually; this subscription bills monthly"),
        ({"currency": "NOK"}, "no price in eur"),
    ],
)
def test_items_that_do_not_fit_the_subscription_are_refused(tenant_alpha, admin_user, product_kwargs, message):
    subscription = billed_january()
    product = product_make(**product_kwargs)
    change = changes.ItemsChange(adds=[changes.LineAdd(product_id=product.pk, quantity=D(1))])
    with pytest.raises(ValidationError) as caught:
        changes.subscription_change_preview(subscription=subscription, change=change, on=date(2027, 1, 15))
    assert message in " ".join(caught.value.message_dict["add_0"]).lower()


@pytest.mark.parametrize(("quantity", "price"), [(D("1000001"), D(1)), (D(0), D(1)), (D(-1), D(1)), (D(1), D("-0.01"))])
def test_absurd_quantities_and_negative_prices_are_refused(tenant_alpha, admin_user, quantity, price):
    subscription = billed_january()
    line = LineItem.objects.get(subscription=subscription)
    change = changes.ItemsChange(edits=[changes.LineEdit(line_id=line.pk, quantity=quantity, unit_price=price)])
    with pytest.raises(ValidationError) as caught:
        changes.subscription_change_preview(subscription=subscription, change=change, on=date(2027, 1, 15))
    assert f"line_{line.pk}" in caught.value.message_dict


def test_a_line_of_another_subscription_cannot_be_edited_and_removing_every_line_is_refused(tenant_alpha, admin_user):
    subscription = billed_january()
    other = subscription_make(start=date(2027, 1, 1))
    foreign = LineItem.objects.get(subscription=other)
    change = changes.ItemsChange(edits=[changes.LineEdit(line_id=foreign.pk, quantity=D(9), unit_price=D(1))])
    with pytest.raises(ValidationError, match="no longer exists"):
        changes.subscription_change_preview(subscription=subscription, change=change, on=date(2027, 1, 15))
    own = LineItem.objects.get(subscription=subscription)
    remove = changes.ItemsChange(edits=[changes.LineEdit(line_id=own.pk, quantity=D(1), unit_price=D(1), remove=True)])
    with pytest.raises(ValidationError, match="at least one item"):
        changes.subscription_change_preview(subscription=subscription, change=remove, on=date(2027, 1, 15))


def test_coupons_apply_and_come_off_and_a_forever_coupon_lowers_mrr(tenant_alpha, admin_user):
    subscription = billed_january()
    forever = coupon_make(percent="10", duration="forever", name="Partner")
    changes.subscription_coupon_apply(subscription=subscription, coupon=forever, actor=admin_user)
    subscription.refresh_from_db()
    assert (subscription.coupon_id, subscription.coupon_periods_left, subscription.mrr) == (
        forever.pk,
        None,
        D("90.00"),
    )
    assert events_named("subscription.coupon_applied")[0]["coupon_id"] == forever.pk
    changes.subscription_coupon_remove(subscription=subscription, actor=admin_user)
    subscription.refresh_from_db()
    assert (subscription.coupon_id, subscription.mrr) == (None, D("100.00"))
    repeating = coupon_make(percent="50", duration="repeating", periods=3, name="Spring")
    changes.subscription_coupon_apply(subscription=subscription, coupon=repeating, actor=admin_user)
    assert Subscription.objects.get(pk=subscription.pk).coupon_periods_left == 3


def test_a_coupon_in_another_currency_or_archived_is_refused(tenant_alpha, admin_user):
    subscription = billed_january()
    nok = coupon_make(amount="100", currency="NOK", duration="once", name="Hundred off")
    with pytest.raises(ValidationError, match="NOK"):
        changes.subscription_coupon_apply(subscription=subscription, coupon=nok, actor=admin_user)
    archived = coupon_make(percent="10", duration="once", name="Old")
    archived.active = False
    archived.save()
    with pytest.raises(ValidationError, match="archived"):
        changes.subscription_coupon_apply(subscription=subscription, coupon=archived, actor=admin_user)


def test_a_canceled_subscription_cannot_change(tenant_alpha, admin_user):
    subscription = billed_january()
    changes.subscription_cancel(subscription=subscription, actor=admin_user, on=date(2027, 1, 15))
    with pytest.raises(ValidationError):
        changes.subscription_pause(subscription=subscription, actor=admin_user, today=date(2027, 1, 16))
    with pytest.raises(ValidationError):
        changes.subscription_change_preview(subscription=subscription, change=changes.ItemsChange())
