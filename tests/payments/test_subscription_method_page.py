"""The buyer's page where a past-due subscription gets a new payment method (no login: the subscription's token):
a forged or another tenant's token is not found, the page shows what is open and the card charged now, and a new
card is saved, made the subscription's method, and charged once for the open invoice."""

from decimal import Decimal

import pytest

from billing.models import DunningStatus, InvoiceDunning, InvoiceStatus, SubscriptionEvent, SubscriptionStatus
from billing.services.subscription_dunning import dunning_charge_failed
from commerce_hub.idempotency.services import key_new
from payments.models import Payment, PaymentStatus, SavedPaymentMethod
from payments.processors.builtin import CARD_DECLINED, CARD_INSUFFICIENT_FUNDS
from tests.billing.subscription_dunning_data import settings_set, subscription_invoice_make, subscription_make
from tests.payments.checkout_helpers import CARD, buyer
from tests.payments.test_subscription_dunning import card_saved


def page_url(subscription) -> str:
    return f"/payments/pay/subscription/{subscription.public_token}/"


@pytest.fixture
def past_due(tenant_alpha):
    """A subscription whose card had insufficient funds at the first charge: past due, with its buyer page."""
    settings_set()
    saved = card_saved(CARD_INSUFFICIENT_FUNDS)
    subscription = subscription_make(method_ref=saved.processor_reference)
    invoice = subscription_invoice_make(subscription)
    dunning_charge_failed(invoice_id=invoice.pk, attempt=1, code="insufficient_funds", message="Insufficient funds.")
    subscription.refresh_from_db()
    return subscription, invoice


def post_card(subscription, number: str, *, key: str | None = None, client=None):
    data = {**CARD, "number": number, "email": "kari@fjordline.example", "idempotency_key": key or key_new()}
    return (client or buyer()).post(page_url(subscription), data)


def test_the_page_shows_the_open_amount_and_the_card_charged_now(past_due):
    subscription, invoice = past_due
    response = buyer().get(page_url(subscription))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "no-referrer"
    page = response.content.decode()
    assert "Subscription: Hosting (monthly)" in page
    assert "€242.00" in page and f"Invoice {invoice.number}: €242.00" in page
    assert "Charged to: Visa •••• 9995" in page
    assert 'name="number"' in page and "Save and pay €242.00" in page
    assert "4242 4242 4242 4242" in page  # the built-in processor's test cards


@pytest.mark.parametrize("token", ["x" * 43, "short", "x" * 44, "%00" * 10])
def test_a_forged_token_is_not_found(past_due, token):
    assert buyer().get(f"/payments/pay/subscription/{token}/").status_code == 404
    assert buyer().post(f"/payments/pay/subscription/{token}/", {**CARD}).status_code == 404


def test_another_tenants_token_is_not_found(past_due, tenant_bravo):
    subscription, _invoice = past_due
    assert buyer("bravo.localhost").get(page_url(subscription)).status_code == 404
    assert buyer("bravo.localhost").post(page_url(subscription), {**CARD}).status_code == 404


def test_a_new_card_is_saved_made_the_subscriptions_method_and_charged_once(past_due):
    subscription, invoice = past_due
    client = buyer()
    key = key_new()

    response = post_card(subscription, "4242 4242 4242 4242", key=key, client=client)

    assert response.status_code == 302 and response["Location"] == page_url(subscription) + "?updated=1"
    new_method = SavedPaymentMethod.objects.latest("pk")
    assert new_method.details == {"brand": "visa", "last4": "4242"}
    subscription.refresh_from_db()
    assert subscription.payment_method_ref == new_method.processor_reference
    (charge,) = Payment.objects.filter(invoice=invoice)
    assert (charge.attempt_key, charge.status, charge.amount, charge.saved_method_id) == (
        f"subscription-invoice-{invoice.pk}-try-2",
        PaymentStatus.SUCCEEDED,
        Decimal("242.00"),
        new_method.pk,
    )
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    page = client.get(response["Location"]).content.decode()
    assert "Your payment method was updated and €242.00 was charged to it." in page
    assert "Charged to: Visa •••• 4242" in page
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="payment_method_updated").count() == 1

    # The same form sent again: the method is saved once and nothing more is charged.
    assert post_card(subscription, "4242 4242 4242 4242", key=key).status_code == 302
    assert SavedPaymentMethod.objects.count() == 2
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_a_new_card_that_declines_is_the_next_failed_attempt(past_due):
    subscription, invoice = past_due
    client = buyer()
    response = post_card(subscription, CARD_DECLINED, client=client)
    page = client.get(response["Location"]).content.decode()
    assert "The new payment method was saved, but the charge failed" in page and "The card was declined." in page
    (charge,) = Payment.objects.filter(invoice=invoice)
    assert charge.status == PaymentStatus.FAILED
    dunning = InvoiceDunning.objects.get(invoice=invoice)
    assert (dunning.failures, dunning.status) == (2, DunningStatus.ACTIVE)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE


def test_bad_card_input_is_shown_next_to_the_field_and_saves_nothing(past_due):
    subscription, _invoice = past_due
    response = post_card(subscription, "1234 5678")
    assert response.status_code == 200
    assert "This card number is not valid." in response.content.decode()
    assert SavedPaymentMethod.objects.count() == 1
    assert Payment.objects.count() == 0


def test_a_post_without_the_forms_key_is_refused(past_due):
    subscription, _invoice = past_due
    response = buyer().post(page_url(subscription), {**CARD, "email": "kari@fjordline.example"})
    assert response.status_code == 400
    assert Payment.objects.count() == 0


def test_the_page_reads_in_the_invoices_language(tenant_alpha):
    settings_set()
    subscription = subscription_make(method_ref=card_saved(CARD_INSUFFICIENT_FUNDS).processor_reference)
    invoice = subscription_invoice_make(subscription, language="nl")
    dunning_charge_failed(invoice_id=invoice.pk, attempt=1, code="insufficient_funds")
    subscription.refresh_from_db()
    response = buyer().get(page_url(subscription))
    assert response.status_code == 200
    assert 'lang="nl"' in response.content.decode()


def test_the_subscription_record_page_lists_its_payments_and_the_buyers_page(past_due, admin_client):
    subscription, invoice = past_due
    post_card(subscription, "4242 4242 4242 4242")
    charge = Payment.objects.get(invoice=invoice)

    response = admin_client.get(f"/billing/subscriptions/{subscription.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="subscription-payments"' in page
    assert "Charged automatically to Visa •••• 4242." in page
    assert f"/payments/pay/subscription/{subscription.public_token}/" in page
    assert f'href="/payments/{charge.pk}/"' in page and invoice.number in page and "€242.00" in page


def test_the_record_pages_payments_table_stacks_on_a_phone_instead_of_widening_the_page(past_due, admin_client):
    # The shell's line tables turn each row into a labelled card under 760 px; a bare table ran past a 390 px screen.
    subscription, invoice = past_due
    post_card(subscription, "4242 4242 4242 4242")

    page = admin_client.get(f"/billing/subscriptions/{subscription.pk}/").content.decode()

    panel = page[page.index('id="subscription-payments"') :]
    panel = panel[: panel.index("</section>")]
    assert '<div class="table-wrap">' in panel and '<table class="compact line-table">' in panel
    for label, value in (("Invoice", invoice.number), ("Method", "Visa •••• 4242"), ("Amount", "€242.00")):
        assert f'data-label="{label}">{value}</td>' in panel
    assert 'data-label="Status">Succeeded</td>' in panel
