"""The buyer's page for a past-due subscription in chromium: the dunning email's link opens it, it holds from 320 to
1920 px wide with no sideways scroll, and a new test card typed in pays the open invoice (screenshots under
test-artifacts/)."""

import pytest
from django.db import connection
from playwright.sync_api import expect

from billing.models import InvoiceStatus, SubscriptionStatus
from billing.services.subscription_dunning import dunning_charge_failed
from payments.processors.builtin import CARD_INSUFFICIENT_FUNDS
from tests.billing.subscription_dunning_data import settings_set, subscription_invoice_make, subscription_make
from tests.payments.test_subscription_dunning import card_saved

pytestmark = pytest.mark.e2e
WIDTHS = (320, 768, 1920)


@pytest.fixture
def past_due(live_tenant, eager_tasks):
    settings_set()
    subscription = subscription_make(method_ref=card_saved(CARD_INSUFFICIENT_FUNDS).processor_reference)
    invoice = subscription_invoice_make(subscription)
    dunning_charge_failed(invoice_id=invoice.pk, attempt=1, code="insufficient_funds", message="Insufficient funds.")
    subscription.refresh_from_db()
    connection.set_schema_to_public()
    return subscription, invoice


def test_the_buyer_updates_the_card_on_a_phone_and_the_open_invoice_is_paid(
    page, live_server_port, past_due, live_tenant, screenshot
):
    subscription, invoice = past_due
    page.goto(f"http://live.localhost:{live_server_port}/payments/pay/subscription/{subscription.public_token}/")
    expect(page.get_by_text("Charged to: Visa •••• 9995")).to_be_visible()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"too wide at {width}px"
        screenshot(page, f"subscription-method-{width}")

    page.set_viewport_size({"width": 320, "height": 900})
    page.get_by_label("Name on card").fill("Kari Nordmann")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry date (MM/YY)").fill("12/34")
    page.get_by_label("Security code (CVC)").fill("123")
    page.get_by_role("button", name="Save and pay €242.00").click()

    expect(page.get_by_text("Your payment method was updated and €242.00 was charged to it.")).to_be_visible()
    expect(page.get_by_text("Charged to: Visa •••• 4242")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    screenshot(page, "subscription-method-paid-320")
    connection.set_tenant(live_tenant)
    invoice.refresh_from_db()
    subscription.refresh_from_db()
    assert (invoice.status, subscription.status) == (InvoiceStatus.PAID, SubscriptionStatus.ACTIVE)
