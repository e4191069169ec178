"""Creating a subscription by hand from a contact, company or deal: the customer, currency, frequency, start (today
or later: scheduled), term, collection, trial and coupon, and recurring items from the product library; one-time
items refused; the shared line item editor until the first invoice; MRR kept current."""

import uuid
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.models import LineItem, Product, ProductPrice, Subscription, SubscriptionEvent, TaxRate
from billing.services.subscription_changes import LineAdd
from billing.services.subscriptions_manual import ManualSubscription, subscription_create_manual
from commerce_hub.accounts.models import Role
from commerce_hub.events.models import OutboxEvent
from tests.billing.invoicing import buyer_make, form_key, key
from tests.billing.quote_builder_data import client_for, deal_make, text_of
from tests.billing.subscribing import coupon_make

TODAY = date(2027, 3, 10)


def product_make(name="Seats", frequency="monthly", prices=None):
    product = Product.objects.create(
        name=name, sku=uuid.uuid4().hex[:10], billing_frequency=frequency, tax_rate=TaxRate.objects.get(name="BTW 21%")
    )
    for currency, price in (prices or {"EUR": "25.00", "NOK": "290"}).items():
        ProductPrice.objects.create(product=product, currency=currency, unit_price=D(price))
    return product


def values(company, **extra):
    seats = extra.pop("seats", None) or product_make()
    defaults = dict(
        name="Team plan",
        currency="EUR",
        frequency="monthly",
        start_date=TODAY,
        items=[LineAdd(product_id=seats.pk, quantity=D(4))],
        company=company,
    )
    return ManualSubscription(**(defaults | extra))


@pytest.fixture
def buyer(tenant_alpha):
    company, _contact = buyer_make()
    return company


def test_a_subscription_starting_today_is_active_and_bills_today(buyer, admin_user):
    subscription = subscription_create_manual(values=values(buyer, term_periods=12), actor=admin_user, today=TODAY)
    assert (subscription.status, subscription.next_billing_date, subscription.billing_anchor) == (
        "active",
        TODAY,
        TODAY,
    )
    assert (subscription.term_periods, subscription.collection_method, subscription.mrr) == (
        12,
        "send_invoice",
        D("100.00"),
    )
    assert list(LineItem.objects.filter(subscription=subscription).values_list("name", "quantity", "unit_price")) == [
        ("Seats", D(4), D("25.00"))
    ]
    assert SubscriptionEvent.objects.get(subscription=subscription).kind == "created"
    assert OutboxEvent.objects.filter(name="subscription.created", payload__id=subscription.pk).exists()


def test_a_later_start_is_scheduled_and_a_trial_moves_the_first_billing(buyer, admin_user):
    later = subscription_create_manual(
        values=values(buyer, start_date=TODAY + timedelta(days=21)), actor=admin_user, today=TODAY
    )
    assert (later.status, later.next_billing_date) == ("scheduled", date(2027, 3, 31))
    trial = subscription_create_manual(values=values(buyer, trial_days=14), actor=admin_user, today=TODAY)
    assert (trial.status, trial.trial_end, trial.next_billing_date, trial.anchor_day) == (
        "active",
        date(2027, 3, 24),
        date(2027, 3, 24),
        24,
    )


def test_a_nok_annual_subscription_with_a_coupon(buyer, admin_user):
    licence = product_make("Lisens", frequency="annual", prices={"NOK": "12000"})
    coupon = coupon_make(percent="10", duration="repeating", periods=2, name="Launch")
    subscription = subscription_create_manual(
        values=values(
            buyer, currency="NOK", frequency="annual", items=[LineAdd(licence.pk, D(1))], coupon=coupon, seats=licence
        ),
        actor=admin_user,
        today=TODAY,
    )
    assert (subscription.coupon_id, subscription.coupon_periods_left, subscription.mrr) == (coupon.pk, 2, D("1000.00"))


@pytest.mark.parametrize(
    ("extra", "field", "message"),
    [
        ({"currency": "ABC"}, "currency", "Choose a currency"),
        ({"start_date": TODAY - timedelta(days=1)}, "start_date", "Start today or later"),
        ({"frequency": "one_time"}, "frequency", "how often"),
        ({"term_periods": 0}, "term_periods", "between 1 and 1000"),
        ({"trial_days": 9999}, "trial_days", "between 0 and 730"),
        ({"collection_method": "charge_automatically"}, "collection_method", "saved payment method"),
        ({"items": []}, "items", "at least one recurring item"),
    ],
)
def test_bad_input_is_refused_with_the_field_that_caused_it(buyer, admin_user, extra, field, message):
    with pytest.raises(ValidationError) as caught:
        subscription_create_manual(values=values(buyer, **extra), actor=admin_user, today=TODAY)
    assert message in " ".join(caught.value.message_dict[field])
    assert not Subscription.objects.exists()


def test_one_time_and_other_frequency_items_are_refused_clearly(buyer, admin_user):
    setup = product_make("Setup fee", frequency="one_time")
    with pytest.raises(ValidationError) as caught:
        subscription_create_manual(values=values(buyer, items=[LineAdd(setup.pk, D(1))]), actor=admin_user, today=TODAY)
    assert (
        "“Setup fee” is billed one time; a subscription bills recurring items only"
        in caught.value.message_dict["items"][0]
    )
    yearly = product_make("Yearly", frequency="annual")
    with pytest.raises(ValidationError, match="billed annually; this subscription bills monthly"):
        subscription_create_manual(
            values=values(buyer, items=[LineAdd(yearly.pk, D(1))]), actor=admin_user, today=TODAY
        )


def test_a_customer_is_required(tenant_alpha, admin_user):
    with pytest.raises(ValidationError) as caught:
        subscription_create_manual(values=values(None), actor=admin_user, today=TODAY)
    assert "Choose the customer" in caught.value.message_dict["company"][0]


def test_charging_automatically_with_a_saved_method(buyer, admin_user):
    subscription = subscription_create_manual(
        values=values(buyer, collection_method="charge_automatically", payment_method_ref="pm_123"),
        actor=admin_user,
        today=TODAY,
    )
    assert (subscription.collection_method, subscription.payment_method_ref) == ("charge_automatically", "pm_123")


# --- the pages --------------------------------------------------------------------------------------------------------


def formset(rows):
    data = {
        "item-TOTAL_FORMS": str(len(rows)),
        "item-INITIAL_FORMS": "0",
        "item-MIN_NUM_FORMS": "0",
        "item-MAX_NUM_FORMS": "50",
    }
    for index, (product, quantity) in enumerate(rows):
        data[f"item-{index}-product"] = str(product.pk) if product else ""
        data[f"item-{index}-quantity"] = quantity
    return data


def test_a_deal_page_offers_a_new_subscription_and_the_form_creates_it_once(tenant_alpha):
    finance = client_for(Role.FINANCE)
    company, contact = buyer_make()
    deal = deal_make(company=company, contacts=[contact])
    seats = product_make()
    html = finance.get(f"/crm/deals/{deal.pk}/").content.decode()
    assert f'href="/billing/subscriptions/new/deal/{deal.pk}/"' in html
    page = finance.get(f"/billing/subscriptions/new/deal/{deal.pk}/")
    assert page.status_code == 200 and "Charging automatically becomes possible" in text_of(page)
    today = timezone.localdate()
    data = {
        "name": "Scanner fleet",
        "customer": f"contact:{contact.pk}",
        "currency": "EUR",
        "frequency": "monthly",
        "start_date": today.isoformat(),
        "term_periods": "",
        "collection_method": "send_invoice",
        "payment_terms_days": "30",
        "trial_days": "0",
        "coupon": "",
        **formset([(seats, "3"), (None, "")]),
        "idempotency_key": form_key(page),
    }
    first = finance.post(f"/billing/subscriptions/new/deal/{deal.pk}/", data)
    again = finance.post(f"/billing/subscriptions/new/deal/{deal.pk}/", data)
    subscription = Subscription.objects.get()
    assert (
        first.status_code == again.status_code == 302
        and first["Location"] == f"/billing/subscriptions/{subscription.pk}/"
    )
    assert (
        subscription.deal_id,
        subscription.contact_id,
        subscription.company_id,
        subscription.payment_terms_days,
    ) == (
        deal.pk,
        contact.pk,
        company.pk,
        30,
    )
    assert subscription.mrr == D("75.00")


def test_the_form_shows_a_one_time_item_refusal_next_to_the_items(tenant_alpha):
    finance = client_for(Role.FINANCE)
    company, _contact = buyer_make()
    setup = product_make("Setup fee", frequency="one_time")
    response = finance.post(
        f"/billing/subscriptions/new/company/{company.pk}/",
        {
            "name": "X",
            "customer": f"company:{company.pk}",
            "currency": "EUR",
            "frequency": "monthly",
            "start_date": timezone.localdate().isoformat(),
            "collection_method": "send_invoice",
            "payment_terms_days": "14",
            **formset([(setup, "1")]),
            **key(),
        },
    )
    assert response.status_code == 400
    assert "is billed one time; a subscription bills recurring items only" in text_of(response)
    assert not Subscription.objects.exists()


def test_a_forged_customer_or_record_is_refused(tenant_alpha):
    finance = client_for(Role.FINANCE)
    company, _contact = buyer_make()
    assert finance.get("/billing/subscriptions/new/company/999999/").status_code == 404
    assert finance.get(f"/billing/subscriptions/new/invoice/{company.pk}/").status_code == 404
    response = finance.post(
        f"/billing/subscriptions/new/company/{company.pk}/", {"customer": "company:424242", "name": "x", **key()}
    )
    assert response.status_code == 400 and not Subscription.objects.exists()


def test_sales_and_readers_cannot_create(tenant_alpha):
    company, _contact = buyer_make()
    for role in (Role.READ_ONLY, Role.SALES):
        assert client_for(role).get(f"/billing/subscriptions/new/company/{company.pk}/").status_code == 403


def test_the_shared_editor_edits_items_until_the_first_invoice_and_refuses_one_time_products(buyer, admin_user):
    subscription = subscription_create_manual(
        values=values(buyer, start_date=TODAY + timedelta(days=5)), actor=admin_user, today=TODAY
    )
    finance = client_for(Role.FINANCE)
    editor_url = f"/billing/subscriptions/{subscription.pk}/line-items/"
    assert finance.get(editor_url).status_code == 200
    support = product_make("Support")
    setup = product_make("Setup fee", frequency="one_time")
    finance.post(f"{editor_url}library/", {"product": [support.pk]})
    assert Subscription.objects.get(pk=subscription.pk).mrr == D("125.00")
    response = finance.post(f"{editor_url}library/", {"product": [setup.pk]})
    assert "billed one time" in text_of(response) or response.status_code in (302, 400)
    assert not LineItem.objects.filter(subscription=subscription, name="Setup fee").exists()
    Subscription.objects.filter(pk=subscription.pk).update(periods_billed=1, current_period_start=TODAY)
    assert finance.get(editor_url).status_code in (200, 403)
    assert finance.post(f"{editor_url}library/", {"product": [support.pk]}).status_code == 403
