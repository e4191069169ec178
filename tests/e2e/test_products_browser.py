"""The product library in the browser at phone width: create a product sold in EUR and NOK, fix a price error next
to its row, find the product again by search."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from playwright.sync_api import expect

from billing.models import Product
from commerce_hub.accounts.models import Role, User

pytestmark = pytest.mark.e2e
PASSWORD = "browser-products-pass-1"


@pytest.fixture
def live_admin(live_tenant):
    user = User.objects.create_user(
        email="pieter@live.example", password=PASSWORD, full_name="Pieter Prijs", role=Role.ADMIN
    )
    connection.set_schema_to_public()
    return user


def _no_sideways_scroll(page):
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_create_a_product_with_eur_and_nok_prices_on_a_phone(
    browser, live_server_port, live_admin, live_tenant, screenshot
):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    base = f"http://live.localhost:{live_server_port}"
    try:
        page.goto(f"{base}/login/")
        page.get_by_label("Email").fill("pieter@live.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        page.get_by_label("Menu").click()
        page.locator(".sidebar").get_by_role("link", name="Products").click()
        expect(page.get_by_role("heading", name="No products yet")).to_be_visible()
        _no_sideways_scroll(page)
        page.locator(".empty-state").get_by_role("button", name="New product").click()

        page.get_by_role("textbox", name="Name", exact=True).fill("Managed hosting")
        page.get_by_role("textbox", name="SKU", exact=True).fill("HOST-M")
        expect(page.get_by_label("Currency, row 1", exact=True)).to_have_value("EUR")
        page.get_by_label("Unit price, row 1", exact=True).fill("-49")
        # Tiers belong to volume and graduated pricing only.
        expect(page.get_by_role("heading", name="Tiers")).to_be_hidden()
        page.get_by_role("button", name="Add a currency").click()
        expect(page.get_by_label("Unit price, row 1", exact=True)).to_have_value("-49")  # kept, not saved, no error yet
        page.get_by_label("Currency, row 2", exact=True).select_option("NOK")
        page.get_by_label("Unit price, row 2", exact=True).fill("575")
        page.get_by_label("Billing frequency").select_option("monthly")
        page.get_by_label("Term").fill("12")
        page.get_by_role("button", name="Create product").click()

        error = page.locator(".row-editor .field-error")
        expect(error).to_have_text("Enter 0 or more.")
        _no_sideways_scroll(page)
        screenshot(page, "product-form-error-phone")
        page.get_by_label("Unit price, row 1", exact=True).fill("49.99")
        page.get_by_role("button", name="Create product").click()

        expect(page.get_by_role("heading", name="Managed hosting")).to_be_visible()
        expect(page.locator(".flash-success")).to_contain_text("“Managed hosting” created.")
        prices = page.locator("table").first
        expect(prices).to_contain_text("€49.99")
        expect(prices).to_contain_text("NOK575.00")
        expect(page.get_by_text("12 months")).to_be_visible()
        _no_sideways_scroll(page)
        screenshot(page, "product-detail-phone")

        page.get_by_role("link", name="← Products").click()
        page.get_by_label("Search").fill("host-m")
        page.get_by_label("Search").press("Enter")
        expect(page).to_have_url(re.compile(r"/billing/products/\?q=host-m"))
        expect(page.locator("#results tbody tr")).to_have_count(1)
        expect(page.locator("#results tbody tr").first).to_contain_text("Managed hosting")
        _no_sideways_scroll(page)
        screenshot(page, "products-index-phone")

        page.goto(f"{base}/billing/settings/tax-rates/")
        expect(page.get_by_role("heading", name="Norway")).to_be_visible()
        expect(page.get_by_role("link", name="BTW 21%")).to_be_visible()
        _no_sideways_scroll(page)
        screenshot(page, "tax-rates-phone")

        connection.set_tenant(live_tenant)
        product = Product.objects.get(sku="HOST-M")
        assert dict(product.prices.values_list("currency", "unit_price")) == {
            "EUR": Decimal("49.99"),
            "NOK": Decimal("575"),
        }
        assert (product.billing_frequency, product.term_months) == ("monthly", 12)
    finally:
        connection.set_schema_to_public()
        context.close()
