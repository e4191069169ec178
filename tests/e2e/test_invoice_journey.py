"""Finance staff in chromium: change the invoice prefix (with its confirmation), create an invoice from a deal,
make it due on receipt, finalize it, open the hosted page as the buyer (phone width too), and find the invoice in
the "Due this month" view."""

from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from billing.models import Invoice, LineItem, TaxRate
from commerce_hub.accounts.models import Role, User
from crm.demo_data import default_pipeline_ensure
from crm.models import Deal
from tests.billing.invoicing import buyer_make, seller_ready

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def journey_data(live_tenant):
    User.objects.create_user(email="femke@live.example", password=PASSWORD, full_name="Femke Finance", role=Role.ADMIN)
    seller_ready(legal_name="Live Test B.V.")
    company, contact = buyer_make(name="Fjordline AS", email="kari@fjordline.example")
    stage = default_pipeline_ensure().stages.order_by("position", "id").first()
    deal = Deal.objects.create(
        name="Ferry scanners", pipeline=stage.pipeline, stage=stage, company=company, amount_currency="EUR"
    )
    deal.contacts.add(contact)
    LineItem.objects.create(
        deal=deal,
        name="Rugged scanner",
        quantity=Decimal(4),
        unit_price=Decimal("199.99"),
        currency="EUR",
        tax_rate=TaxRate.objects.get(name="BTW 21%"),
    )
    connection.set_schema_to_public()
    return {"deal": deal.pk}


def _sign_in(page, base):
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("femke@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Femke Finance")).to_be_visible()


def test_invoice_from_deal_to_buyer(browser, page, live_server_port, journey_data, screenshot):
    base = f"http://live.localhost:{live_server_port}"
    _sign_in(page, base)

    # The prefix changes only after a confirmation.
    page.goto(f"{base}/billing/invoices/settings/")
    page.get_by_label("Invoice number prefix").fill("NLH")
    page.get_by_role("button", name="Save numbering").click()
    expect(page.get_by_role("heading", name="Change the number prefix?")).to_be_visible()
    expect(page.get_by_text("Invoices finalized from now on will be numbered NLH-1001")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator(".next-number")).to_contain_text("The next invoice will be NLH-1001.")

    # From the deal: a draft with the deal's buyer and lines.
    page.goto(f"{base}/crm/deals/{journey_data['deal']}/")
    page.locator("#invoices-panel").get_by_role("button", name="Create invoice").click()
    expect(page.get_by_role("heading", name="Draft invoice")).to_be_visible()
    expect(page.locator("#line-editor")).to_contain_text("Rugged scanner")
    expect(page.locator("#line-editor")).to_contain_text("€967.95")  # 4 x 199.99 = 799.96 + 21% VAT 167.99
    page.get_by_label("Payment terms").select_option(label="Due on receipt")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Invoice details saved.")).to_be_visible()
    screenshot(page, "invoice-draft")

    page.get_by_role("button", name="Finalize").click()
    expect(page.get_by_text("It gets the number NLH-1001")).to_be_visible()
    page.get_by_role("button", name="Finalize invoice").click()
    expect(page.get_by_role("heading", name="NLH-1001")).to_be_visible()
    expect(page.get_by_text("Invoice NLH-1001 finalized.")).to_be_visible()
    screenshot(page, "invoice-finalized")

    with schema_context("t_live"):
        invoice = Invoice.objects.get(number="NLH-1001")
    connection.set_schema_to_public()
    assert invoice.total == Decimal("967.95")

    # The buyer opens the link from the email, signed out, on a phone.
    buyer = browser.new_context(viewport={"width": 390, "height": 844})
    buyer_page = buyer.new_page()
    response = buyer_page.goto(f"{base}/billing/i/{invoice.public_token}/")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    expect(buyer_page.get_by_role("heading", name="€967.95")).to_be_visible()
    expect(buyer_page.get_by_role("button", name="Download PDF")).to_be_visible()
    expect(buyer_page.locator("body")).not_to_contain_text("Femke")
    screenshot(buyer_page, "invoice-hosted-phone")
    width = buyer_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the hosted page scrolls sideways at phone width ({width}px)"
    buyer.close()
    with schema_context("t_live"):
        assert Invoice.objects.get(pk=invoice.pk).first_viewed_at is not None
    connection.set_schema_to_public()

    # Finance finds it among the invoices due this month.
    page.goto(f"{base}/billing/invoices/")
    page.get_by_role("link", name="Due this month").click()
    row = page.locator("table tr", has_text="NLH-1001")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Fjordline AS")
    screenshot(page, "invoices-due-this-month")
