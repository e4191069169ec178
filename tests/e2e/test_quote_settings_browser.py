"""Settings → Quotes in chromium, at phone and desktop widths: an admin switches approvals on with a bad limit,
sees the error next to the field, fixes it, reads the summary, and previews a template in Norwegian."""

import re

import pytest
from django.db import connection
from playwright.sync_api import expect

from commerce_hub.accounts.models import Role, User

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def live_admin(live_tenant):
    user = User.objects.create_user(
        email="sanne@live.example", password=PASSWORD, full_name="Sanne de Vries", role=Role.ADMIN
    )
    connection.set_schema_to_public()
    return user


def _sign_in(page, port):
    page.goto(f"http://live.localhost:{port}/billing/quotes/settings/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Email").fill("sanne@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Approvals")).to_be_visible()


def _fits(page) -> bool:
    """Nothing in the page's content sticks out sideways (wide tables scroll inside their own wrapper)."""
    return page.evaluate(
        "(() => { const m = document.querySelector('main'); return m.scrollWidth <= m.clientWidth; })()"
    )


@pytest.mark.parametrize("width", [320, 1920])
def test_an_admin_sets_approval_limits_and_previews_a_template(page, live_server_port, live_admin, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    _sign_in(page, live_server_port)
    assert _fits(page)

    page.get_by_label("Require approval for large discounts or totals").check()
    page.get_by_label("Discount above (%)").fill("150")
    page.get_by_role("button", name="Save approvals").click()
    expect(page.locator("#approvals")).to_contain_text("Enter a percentage above 0 and at most 100.")
    screenshot(page, f"quote-settings-error-{width}")

    page.get_by_label("Discount above (%)").fill("15")
    page.get_by_label("Total above").fill("25000")
    page.get_by_role("button", name="Save approvals").click()
    expect(page.locator(".flash-success")).to_contain_text("Approval settings saved.")
    expect(page.locator(".quote-summary")).to_contain_text(
        "Quotes with a discount above 15% or a total above €25,000.00 need an approver's approval"
    )
    screenshot(page, f"quote-settings-{width}")

    page.get_by_role("link", name="Manage templates").click()
    page.get_by_role("button", name="Preview Modern").click()
    page.get_by_role("link", name="Norwegian Bokmål").click()
    preview = page.locator(".quote-preview")
    expect(preview).to_have_attribute("data-layout", "modern")
    expect(preview).to_contain_text("Antall")
    assert _fits(page)
    screenshot(page, f"quote-template-preview-{width}")
