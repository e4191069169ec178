"""Finance staff in chromium, at phone and desktop widths: the payments index, a payment's record page, a partial
refund through its confirmation step, and the refunded figures and the receipt afterwards."""

from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from commerce_hub.accounts.models import Role, User
from commerce_hub.events.models import OutboxEvent
from commerce_hub.events.services import event_deliver
from payments.models import MethodKind, Refund
from tests.billing.invoicing import buyer_make
from tests.payments.paying import SEPA, open_invoice, pay

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def ledger(live_tenant):
    User.objects.create_user(
        email="femke@live.example", password=PASSWORD, full_name="Femke Finance", role=Role.FINANCE
    )
    company, contact = buyer_make(name="Fjordline AS", email="kari@fjordline.example")
    invoice = open_invoice(company=company, contacts=[contact])
    card = pay(invoice)
    other, ola = buyer_make(name="Nordlys AS", email="ola@nordlys.example")
    pay(open_invoice(company=other, contacts=[ola]), method=MethodKind.SEPA_DEBIT, data=SEPA)
    event_deliver(event_id=OutboxEvent.objects.get(name="payment.succeeded").pk)  # the receipt
    connection.set_schema_to_public()
    return {"card": card.pk, "invoice": invoice.number}


def _sign_in(browser, base, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("femke@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Femke Finance")).to_be_visible()
    return context, page


@pytest.mark.parametrize("width", [390, 1280])
def test_payments_index_record_page_and_a_partial_refund(browser, live_server_port, ledger, screenshot, width):
    base = f"http://live.localhost:{live_server_port}"
    context, page = _sign_in(browser, base, width)
    page.goto(f"{base}/payments/")
    expect(page.get_by_role("heading", name="Payments")).to_be_visible()
    expect(page.locator("#results")).to_contain_text("Visa •••• 4242")
    expect(page.locator("#results")).to_contain_text("SEPA Direct Debit •••• 4300")
    screenshot(page, f"payments-index-{width}")

    page.get_by_placeholder("Search").fill("Nordlys")
    expect(page.locator("#results")).not_to_contain_text("Fjordline AS")  # htmx swapped the results
    page.goto(f"{base}/payments/{ledger['card']}/")
    expect(page.locator("#payment-figures")).to_contain_text("€238.36")
    expect(page.locator("#receipt")).to_contain_text("RCPT-1001")
    screenshot(page, f"payment-record-{width}")

    page.get_by_label("Amount to refund").fill("42.00")
    page.get_by_role("button", name="Review refund").click()
    expect(page.get_by_text("Refund €42.00?")).to_be_visible()
    expect(page.locator("#refund-panel")).to_contain_text(f"Invoice {ledger['invoice']} owes €42.00 again.")
    screenshot(page, f"payment-refund-confirm-{width}")
    page.get_by_role("button", name="Refund €42.00").click()
    expect(page.get_by_text("€42.00 refunded.")).to_be_visible()
    expect(page.locator("#payment-figures")).to_contain_text("€200.00")
    expect(page.locator("#payment-invoice")).to_contain_text("due €42.00")
    screenshot(page, f"payment-refunded-{width}")
    context.close()
    with schema_context("t_live"):
        assert Refund.objects.get().amount == Decimal("42.00")
