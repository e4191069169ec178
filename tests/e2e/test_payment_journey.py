"""A buyer pays an invoice by card on the hosted pages with the built-in processor, finance staff see it paid,
refund part of it, and see the balance the invoice owes again and the payment's receipt."""

from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from billing.models import Invoice
from billing.selectors.receivables import invoice_figures
from commerce_hub.accounts.models import Role, User
from payments.models import Payment, Receipt
from payments.processors.builtin import CARD_SUCCESS
from tests.payments.paying import open_invoice

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def invoice_to_pay(live_tenant, eager_tasks):
    User.objects.create_user(email="femke@live.example", password=PASSWORD, full_name="Femke Finance", role=Role.ADMIN)
    invoice = open_invoice()
    connection.set_schema_to_public()
    return invoice


def test_buyer_pays_by_card_and_finance_refunds_part(browser, page, live_server_port, invoice_to_pay, screenshot):
    base = f"http://live.localhost:{live_server_port}"
    invoice = invoice_to_pay

    # The buyer opens the invoice's hosted page and pays online.
    page.goto(f"{base}/billing/i/{invoice.public_token}/")
    page.get_by_role("button", name="Pay online").click()
    expect(page.get_by_text("Test mode", exact=False).first).to_be_visible()
    card = page.locator("#method-card")
    if card.get_attribute("open") is None:
        card.locator("summary").click()
    card.get_by_label("Name on card").fill("Kari Nordmann")
    card.get_by_label("Card number").fill(CARD_SUCCESS)
    card.get_by_label("Expiry date (MM/YY)").fill("12/30")
    card.get_by_label("Security code (CVC)").fill("123")
    card.get_by_label("Email for the confirmation").fill("kari@fjordline.example")
    card.get_by_role("button", name="Pay €242.00").click()
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    screenshot(page, "payment-success")

    with schema_context("t_live"):
        assert Invoice.objects.get(pk=invoice.pk).status == "paid"
        payment = Payment.objects.get(invoice_id=invoice.pk)
        assert payment.status == "succeeded"
        assert Receipt.objects.get(payment=payment).number == "RCPT-1001"

    # Finance staff sign in, find it paid, and refund 42.00 so the invoice owes it again.
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("femke@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{base}/payments/{payment.pk}/")
    expect(page.get_by_role("link", name="RCPT-1001")).to_be_visible()
    page.get_by_label("Amount to refund").fill("42.00")
    page.locator("input[name=mode][value=reopen]").check()
    page.get_by_role("button", name="Review refund").click()
    expect(page.get_by_role("heading", name="Refund €42.00?")).to_be_visible()
    page.get_by_role("button", name="Refund €42.00").click()
    expect(page.locator("#refunds-heading")).to_be_visible()
    screenshot(page, "payment-refunded")

    with schema_context("t_live"):
        figures = invoice_figures(Invoice.objects.get(pk=invoice.pk))
        assert (figures.paid, figures.due, figures.status) == (Decimal("200.00"), Decimal("42.00"), "partially_paid")

    # The invoice's record page shows the balance owed again.
    page.goto(f"{base}/billing/invoices/{invoice.pk}/")
    expect(page.get_by_text("€42.00").first).to_be_visible()
    expect(page.get_by_text("Partially paid").first).to_be_visible()
