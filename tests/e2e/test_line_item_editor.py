"""The line item editor in chromium: add a library product and a custom line, edit quantity and discount with the
engine recomputing, reorder by drag and drop and by the arrows, see the metrics follow, and save with the deal
amount updated from the lines. Then the same pages at phone width."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from billing.models import LineItem, Product, ProductPrice, TaxRate
from commerce_hub.accounts.models import Role, User
from crm.demo_data import default_pipeline_ensure
from crm.models import Deal

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def editor_data(live_tenant):
    User.objects.create_user(email="sanne@live.example", password=PASSWORD, full_name="Sanne de Vries", role=Role.ADMIN)
    stage = default_pipeline_ensure().stages.order_by("position", "id").first()
    deal = Deal.objects.create(
        name="Warehouse scanners", pipeline=stage.pipeline, stage=stage, amount=Decimal("800"), amount_currency="EUR"
    )
    product = Product.objects.create(
        name="Rugged scanner", sku="SCN-1", tax_rate=TaxRate.objects.get(name="BTW 21%"), unit_cost=Decimal("120")
    )
    ProductPrice.objects.create(product=product, currency="EUR", unit_price=Decimal("199.99"))
    connection.set_schema_to_public()
    return {"deal": deal.pk, "product": product.pk}


def _sign_in(page, base):
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("sanne@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Sanne de Vries")).to_be_visible()


def _names(deal_pk: int) -> list[str]:
    with schema_context("t_live"):
        return list(LineItem.objects.filter(deal_id=deal_pk).values_list("name", flat=True))


def test_build_a_deal_from_line_items(page, live_server_port, editor_data, screenshot):
    base = f"http://live.localhost:{live_server_port}"
    deal = editor_data["deal"]
    _sign_in(page, base)
    page.goto(f"{base}/crm/deals/{deal}/")
    panel = page.locator("#line-items-panel")
    expect(panel).to_contain_text("No line items yet")
    panel.get_by_role("button", name="Add line items").click()
    expect(page.get_by_role("heading", name="Line items", exact=True)).to_be_visible()

    # A product from the library: search, tick, add.
    page.get_by_role("button", name="Add from library").click()
    page.get_by_label("Search products").press_sequentially("rugged")
    page.get_by_label("Rugged scanner").check()
    page.get_by_role("button", name="Add selected").click()
    expect(page.locator("#line-rows tr")).to_have_count(1)
    expect(page.locator('[data-metric="total"]')).to_have_text("€241.99")

    # A custom line, typed in.
    page.get_by_role("button", name="Custom line item").click()
    page.get_by_label("Name").fill("Installation day")
    page.get_by_label("Unit price").fill("500")
    page.get_by_role("button", name="Add line item").click()
    expect(page.locator("#line-rows tr")).to_have_count(2)
    expect(page.locator('[data-metric="subtotal"]')).to_have_text("€699.99")

    # Edit quantity and discount in place: the preview follows as you type, the metrics once saved.
    page.get_by_label("Edit Rugged scanner").click()
    # htmx wires a swapped-in form after it settles; type before that and the preview never hears it.
    page.wait_for_function(
        "() => { const f = document.querySelector('.line-form'); return f && f['htmx-internal-data']; }"
    )
    page.locator(".line-form").get_by_label("Quantity").fill("3")
    page.locator(".line-form").get_by_label("Discount", exact=True).select_option("percent")
    page.locator(".line-form").get_by_label("Discount value").fill("10")
    expect(page.locator('.line-preview [data-figure="net"]')).to_have_text("€539.97")
    expect(page.locator('.line-preview [data-figure="tax"]')).to_have_text("€113.39")
    # A bad value shows its message next to the field, and nothing is saved.
    page.locator(".line-form").get_by_label("Quantity").fill("-2")
    expect(page.locator(".line-form .f-quantity .field-error")).to_have_text("The quantity cannot be negative.")
    page.get_by_role("button", name="Save line", exact=True).click()
    expect(page.locator(".line-form .form-errors")).to_have_text("Please correct the fields marked below.")
    expect(page.locator(".line-form .f-quantity .field-error")).to_have_text("The quantity cannot be negative.")
    page.locator(".line-form").get_by_label("Quantity").fill("3")
    screenshot(page, "line-editor-editing")
    page.get_by_role("button", name="Save line", exact=True).click()
    expect(page.locator(".line-form")).to_have_count(0)
    expect(page.locator('[data-metric="subtotal"]')).to_have_text("€1,039.97")
    expect(page.locator('[data-metric="tax"]')).to_have_text("€113.39")
    expect(page.locator('[data-metric="total"]')).to_have_text("€1,153.36")
    expect(page.locator('[data-metric="tcv"]')).to_have_text("€1,039.97")
    expect(page.locator('[data-metric="margin"]')).to_have_text("€679.97")

    # Reorder: drag the custom line above the scanner, then put it back with its arrow.
    page.locator("#line-rows tr", has_text="Installation day").drag_to(
        page.locator("#line-rows tr", has_text="Rugged scanner"), target_position={"x": 40, "y": 4}
    )
    expect(page.locator("#line-rows tr").first).to_contain_text("Installation day")
    expect(page.locator("#line-rows tr[aria-busy]")).to_have_count(0)
    assert _names(deal) == ["Installation day", "Rugged scanner"]
    page.get_by_label("Move Installation day down").click()
    expect(page.locator("#line-rows tr").first).to_contain_text("Rugged scanner")
    assert _names(deal) == ["Rugged scanner", "Installation day"]
    screenshot(page, "line-editor")

    # Save: the deal amount becomes the lines' TCV.
    page.get_by_role("button", name="Save line items").click()
    expect(page.get_by_role("heading", name="Update the deal amount from the line items?")).to_be_visible()
    page.get_by_role("button", name="Update deal amount to €1,039.97").click()
    expect(page).to_have_url(re.compile(rf"/crm/deals/{deal}/$"))
    expect(page.locator("#record-header")).to_contain_text("€1,039.97")
    expect(page.locator("#line-items-panel [data-metric='total']")).to_have_text("€1,153.36")
    with schema_context("t_live"):
        assert Deal.objects.get(pk=deal).amount.amount == Decimal("1039.97")


def test_line_item_pages_fit_a_phone(browser, live_server_port, editor_data, screenshot):
    deal = editor_data["deal"]
    with schema_context("t_live"):
        LineItem.objects.create(
            deal_id=deal,
            name="Rugged scanner with a long descriptive name",
            quantity=3,
            unit_price=Decimal("199.99"),
            currency="EUR",
            frequency="monthly",
            term_months=12,
            position=0,
        )
        LineItem.objects.create(
            deal_id=deal, name="Installation", unit_price=Decimal("500"), currency="EUR", position=1
        )
    connection.set_schema_to_public()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    base = f"http://live.localhost:{live_server_port}"
    try:
        _sign_in(page, base)
        for name, path in [
            ("deal", f"/crm/deals/{deal}/"),
            ("editor", f"/billing/deals/{deal}/line-items/"),
            ("save", f"/billing/deals/{deal}/line-items/save/"),
            ("exchange-rates", "/billing/settings/exchange-rates/"),
        ]:
            page.goto(base + path)
            expect(page.locator("main h1").first).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            screenshot(page, f"phone-line-items-{name}")
        page.goto(f"{base}/billing/deals/{deal}/line-items/")
        page.get_by_role("button", name="Add from library").click()
        expect(page.get_by_label("Search products")).to_be_visible()
        page.get_by_label("Edit Installation").click()
        expect(page.locator(".line-form")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "phone-line-items-editing")
    finally:
        context.close()
