"""The checkout of a tenant that takes payments through Stripe: Stripe.js takes the card, only its PaymentMethod id
reaches the server, which charges the amount it computes itself (the Stripe fake of tests/payments/fake_stripe.py)."""

from decimal import Decimal

import pytest

from payments.models import Payment, PaymentStatus
from tests.payments.checkout_helpers import buyer, checkout_url, only_payment, post
from tests.payments.fake_stripe import PUBLISHABLE_KEY, fake_stripe, stripe_connect  # noqa: F401 - the fixture
from tests.payments.paying import open_invoice


@pytest.fixture
def stripe_alpha(tenant_alpha, fake_stripe):  # noqa: F811
    stripe_connect(fake_stripe)
    return fake_stripe


def test_the_page_offers_stripes_card_form_and_no_built_in_test_cards(stripe_alpha):
    invoice = open_invoice()
    page = buyer().get(checkout_url(invoice)).content.decode()
    assert f'data-publishable-key="{PUBLISHABLE_KEY}"' in page and "https://js.stripe.com/v3/" in page
    assert "Pay €242.00" in page
    assert "4242 4242 4242 4242" not in page and 'name="number"' not in page  # card numbers never touch our page
    assert "TEST MODE" in page  # a Stripe test key
    hosted = buyer().get(f"/billing/i/{invoice.public_token}/").content.decode()
    assert f'href="/payments/pay/{invoice.public_token}/"' in hosted


def test_a_card_from_stripe_js_pays_the_invoice_for_the_servers_amount(stripe_alpha):
    invoice = open_invoice()
    client = buyer()
    response = post(client, invoice, "card", {"payment_method": "pm_card_visa", "amount": "1.00"})
    payment = only_payment(invoice)
    assert response["Location"] == f"/payments/pay/{invoice.public_token}/p/{payment.public_id}/"
    assert (payment.processor, payment.status, payment.amount) == ("stripe", PaymentStatus.SUCCEEDED, Decimal("242.00"))
    assert "Visa •••• 4242" in client.get(response["Location"]).content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_a_card_stripe_wants_confirmed_waits_with_stripe_js_on_the_page(stripe_alpha):
    invoice = open_invoice()
    client = buyer()
    response = post(client, invoice, "card", {"payment_method": "pm_card_authenticationRequired"})
    payment = only_payment(invoice)
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    page = client.get(response["Location"]).content.decode()
    assert "Finish your payment" in page
    assert f'data-client-secret="{payment.next_action["client_secret"]}"' in page
    assert "Cancel and pay another way" in page


@pytest.mark.parametrize("payment_method", ["", "4242424242424242", "pm_<script>", "x" * 300])
def test_anything_but_a_stripe_payment_method_id_is_refused(stripe_alpha, payment_method):
    invoice = open_invoice()
    response = post(buyer(), invoice, "card", {"payment_method": payment_method})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Enter your card details." in body or "The card could not be read. Enter it again." in body
    assert Payment.objects.count() == 0


def test_methods_stripe_js_does_not_take_here_are_refused(stripe_alpha):
    invoice = open_invoice()
    response = post(buyer(), invoice, "ideal", {"bank": "ing"})
    assert response.status_code == 400
    assert Payment.objects.count() == 0
