"""The quote builder in chromium: a rep makes a quote from a deal's Quotes panel, walks the eight steps (a custom line
through the shared editor, a one-time discount, the options and terms), reviews it and finds it in the index; every
page fits a 320 px phone and a 1920 px screen without sideways scrolling."""

from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from billing.models import LineItem, Quote
from commerce_hub.accounts.models import Role, User
from crm.demo_data import default_pipeline_ensure
from crm.models import Company, Contact, Deal

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def quote_data(live_tenant):
    User.objects.create_user(email="rita@live.example", password=PASSWORD, full_name="Rita Rep", role=Role.SALES)
    stage = default_pipeline_ensure().stages.order_by("position", "id").first()
    company = Company.objects.create(name="Fjordline AS", country="NO", language="en")
    kari = Contact.objects.create(
        first_name="Kari", last_name="Nordmann", email="kari@fjordline.example", company=company
    )
    deal = Deal.objects.create(
        name="Warehouse scanners", pipeline=stage.pipeline, stage=stage, amount_currency="EUR", company=company
    )
    deal.contacts.add(kari)
    LineItem.objects.create(deal=deal, name="Scanner", quantity=Decimal(2), unit_price=Decimal("100"), currency="EUR")
    connection.set_schema_to_public()
    return {"deal": deal.pk}


def _sign_in(page, base):
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("rita@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Rita Rep")).to_be_visible()


_WIDER = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll("#main *"))
    .filter((el) => !el.closest(".table-wrap") && el.getBoundingClientRect().right > width + 1)
    .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
}"""


def _fits(page) -> None:
    """Nothing in the page's content is wider than the window (wide tables scroll inside their own box)."""
    wider = page.evaluate(_WIDER)
    assert wider == [], f"{page.url}: {wider[:5]} stick out of a {page.viewport_size['width']} px window"


def test_a_rep_builds_a_quote_from_a_deal_step_by_step(page, live_server_port, quote_data, screenshot):
    base = f"http://live.localhost:{live_server_port}"
    _sign_in(page, base)
    page.goto(f"{base}/crm/deals/{quote_data['deal']}/")
    panel = page.locator("#quotes-panel")
    expect(panel).to_contain_text("No quotes yet")
    panel.get_by_role("button", name="New quote").click()

    expect(page.get_by_role("heading", name="Details")).to_be_visible()
    expect(page.locator("#step-progress")).to_have_text("Step 1 of 8")
    page.get_by_label("Title").fill("Scanners for Bergen")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Buyer and sender", exact=True)).to_be_visible()
    expect(page.get_by_label("Kari Nordmann")).to_be_checked()
    page.get_by_role("button", name="Save and continue").click()

    expect(page.locator("#step-progress")).to_have_text("Step 3 of 8")
    page.get_by_role("button", name="Custom line item").click()
    page.get_by_label("Name").fill("Installation day")
    page.get_by_label("Unit price").fill("500")
    page.get_by_role("button", name="Add line item").click()
    expect(page.locator("#line-rows tr")).to_have_count(2)
    expect(page.locator('[data-metric="subtotal"]')).to_have_text("€700.00")
    page.get_by_role("button", name="Next →").click()

    expect(page.locator("#step-progress")).to_have_text("Step 4 of 8")
    page.get_by_label("Label").fill("Launch discount")
    page.get_by_label("Value").fill("10")
    page.get_by_role("button", name="Add to summary").click()
    expect(page.locator('[data-summary="total"]')).to_have_text("€630.00")
    page.get_by_role("button", name="Next →").click()

    expect(page.locator("#step-progress")).to_have_text("Step 5 of 8")
    page.get_by_role("button", name="Next →").click()
    page.get_by_label("The buyer pays through the quote").check()
    page.get_by_label("Card").check()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("Comments for the buyer").fill("Thanks for the visit, Kari.")
    page.get_by_role("button", name="Save and review").click()

    expect(page.locator("#step-progress")).to_have_text("Step 8 of 8")
    expect(page.locator(".quote-document")).to_contain_text("Installation day")
    expect(page.locator(".quote-document")).to_contain_text("Thanks for the visit, Kari.")
    screenshot(page, "quote-review-desktop")

    with schema_context("t_live"):
        quote = Quote.objects.get()
        assert quote.title == "Scanners for Bergen"
        assert quote.total == Decimal("630.00")
        assert list(LineItem.objects.filter(deal_id=quote_data["deal"]).values_list("name", flat=True)) == [
            "Scanner",
            "Installation day",
        ]
    pk = quote.pk

    pages = [f"/billing/quotes/{pk}/build/{step}/" for step in ("details", "parties", "lines", "summary", "review")]
    pages += [f"/billing/quotes/{pk}/", "/billing/quotes/", f"/crm/deals/{quote_data['deal']}/"]
    for width in (320, 1920):
        page.set_viewport_size({"width": width, "height": 900})
        for path in pages:
            page.goto(f"{base}{path}")
            _fits(page)
    page.set_viewport_size({"width": 320, "height": 900})
    page.goto(f"{base}/billing/quotes/{pk}/build/lines/")
    screenshot(page, "quote-lines-phone")
    page.goto(f"{base}/billing/quotes/{pk}/")
    screenshot(page, "quote-record-phone")
    page.goto(f"{base}/billing/quotes/")
    expect(page.get_by_role("link", name="Draft", exact=True)).to_be_visible()
