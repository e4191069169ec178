"""A checkout that starts a subscription saves the buyer's method so later periods can be charged automatically: a
payment link purchase with recurring lines (built-in processor and Stripe), not one with one-time lines only; and the
Stripe side of dunning against the local fake Stripe: an off-session decline goes to dunning, and the buyer's page
takes a new card through Stripe.js (a SetupIntent) and charges it."""

from decimal import Decimal

import pytest

from billing.models import (
    CollectionMethod,
    DunningStatus,
    InvoiceDunning,
    InvoiceStatus,
    PaymentLinkPurchase,
    Subscription,
    SubscriptionStatus,
)
from billing.subscription_collection import subscription_invoices_collect
from commerce_hub.idempotency.services import key_new
from payments.models import Payment, PaymentStatus, SavedPaymentMethod
from payments.services.payments import payment_process
from tests.billing.payment_link_data import SETUP, buyer_form, hosted_url, link_make
from tests.billing.quote_paying import run_handlers
from tests.billing.subscription_dunning_data import settings_set, subscription_invoice_make, subscription_make
from tests.payments.checkout_helpers import buyer, pay_card, post
from tests.payments.fake_stripe import PUBLISHABLE_KEY, fake_stripe, stripe_connect  # noqa: F401 - the fixture

LINK_PAID = "billing.payment_link_invoice_paid"


def _buy(link):
    assert buyer().post(hosted_url(link), buyer_form()).status_code == 302
    (purchase,) = PaymentLinkPurchase.objects.filter(link=link)
    return purchase.invoice


def _charge_next_period(subscription) -> Payment:
    """The billing run's part for a later period: its invoice handed to the collector, charged by the worker."""
    invoice = subscription_invoice_make(subscription)
    subscription_invoices_collect(invoice_ids=[invoice.pk])
    (payment,) = Payment.objects.filter(invoice=invoice)
    return payment_process(payment_id=payment.pk)


def test_a_payment_link_purchase_with_a_monthly_line_saves_the_card_and_the_next_period_is_charged_to_it(
    tenant_alpha,
):
    invoice = _buy(link_make())
    assert pay_card(buyer(), invoice).status_code == 302
    (payment,) = Payment.objects.filter(invoice=invoice)
    assert payment.status == PaymentStatus.SUCCEEDED
    saved = payment.saved_method
    assert (saved.processor, saved.kind, saved.details) == ("builtin", "card", {"brand": "visa", "last4": "4242"})

    run_handlers(LINK_PAID)
    (subscription,) = Subscription.objects.filter(source_purchase__invoice=invoice)
    assert subscription.collection_method == CollectionMethod.CHARGE_AUTOMATICALLY
    assert subscription.payment_method_ref == saved.processor_reference

    renewal = _charge_next_period(subscription)
    assert (renewal.status, renewal.amount, renewal.saved_method_id, renewal.off_session) == (
        PaymentStatus.SUCCEEDED,
        Decimal("242.00"),
        saved.pk,
        True,
    )


def test_a_purchase_of_one_time_lines_saves_no_method(tenant_alpha):
    invoice = _buy(link_make(lines=(SETUP,)))
    assert pay_card(buyer(), invoice).status_code == 302
    assert Payment.objects.get(invoice=invoice).saved_method is None
    assert not SavedPaymentMethod.objects.exists()


# --- Stripe, against the local fake -----------------------------------------------------------------------------------


@pytest.fixture
def stripe_alpha(tenant_alpha, fake_stripe):  # noqa: F811
    stripe_connect(fake_stripe)
    return fake_stripe


def test_a_stripe_checkout_that_starts_a_subscription_saves_the_card_with_a_setup_intent(stripe_alpha):
    invoice = _buy(link_make())
    response = post(buyer(), invoice, "card", {"payment_method": "pm_card_visa"})
    assert response.status_code == 302
    (payment,) = Payment.objects.filter(invoice=invoice)
    assert (payment.processor, payment.status) == ("stripe", PaymentStatus.SUCCEEDED)
    assert (payment.saved_method.processor, payment.saved_method.processor_reference) == ("stripe", "pm_card_visa")
    (setup,) = stripe_alpha.all("setup_intent")
    assert (setup["status"], setup["usage"], setup["payment_method"]) == ("succeeded", "off_session", "pm_card_visa")
    run_handlers(LINK_PAID)
    (subscription,) = Subscription.objects.filter(source_purchase__invoice=invoice)
    assert subscription.payment_method_ref == "pm_card_visa"


def test_a_stripe_off_session_decline_goes_to_dunning_and_the_buyers_new_card_pays(stripe_alpha):
    settings_set()
    # A card that was fine when saved and now has insufficient funds.
    SavedPaymentMethod.objects.create(
        processor="stripe",
        processor_reference="pm_card_chargeDeclinedInsufficientFunds",
        kind="card",
        details={"brand": "visa", "last4": "9995"},
    )
    subscription = subscription_make(method_ref="pm_card_chargeDeclinedInsufficientFunds")
    invoice = subscription_invoice_make(subscription)

    subscription_invoices_collect(invoice_ids=[invoice.pk])
    (declined,) = Payment.objects.filter(invoice=invoice)
    declined = payment_process(payment_id=declined.pk)
    assert (declined.status, declined.failure_code) == (PaymentStatus.FAILED, "insufficient_funds")
    (intent,) = stripe_alpha.all("payment_intent")
    assert intent["amount"] == 24200 and intent["metadata"]["payment"] == declined.public_id
    run_handlers("payments.subscription_payment_failed")
    dunning = InvoiceDunning.objects.get(invoice=invoice)
    assert (dunning.failures, dunning.status) == (1, DunningStatus.ACTIVE)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE

    url = f"/payments/pay/subscription/{subscription.public_token}/"
    page = buyer().get(url).content.decode()
    assert f'data-publishable-key="{PUBLISHABLE_KEY}"' in page and "https://js.stripe.com/v3/" in page
    assert 'name="number"' not in page  # card numbers never touch our page
    assert "Save and pay €242.00" in page

    data = {"method": "card", "payment_method": "pm_card_visa", "email": "kari@fjordline.example"}
    response = buyer().post(url, {**data, "idempotency_key": key_new()})

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.payment_method_ref == "pm_card_visa"
    paid = Payment.objects.get(invoice=invoice, status=PaymentStatus.SUCCEEDED)
    assert (paid.attempt_key, paid.amount, paid.processor) == (
        f"subscription-invoice-{invoice.pk}-try-2",
        Decimal("242.00"),
        "stripe",
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert [i["status"] for i in stripe_alpha.all("payment_intent")] == ["requires_payment_method", "succeeded"]
