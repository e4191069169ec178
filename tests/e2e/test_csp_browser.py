"""Every main page renders under the Content-Security-Policy in chromium with no violation: sign-in, dashboard, a
deal, an invoice, the hosted invoice page and the checkout, and the inline-edit and column picker still work."""

import pytest
from django.db import connection
from playwright.sync_api import expect

from commerce_hub.accounts.models import Role, User
from crm.demo_data import default_pipeline_ensure
from crm.models import Deal
from tests.payments.paying import open_invoice

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def csp_data(live_tenant, eager_tasks):
    User.objects.create_user(email="carla@live.example", password=PASSWORD, full_name="Carla Csp", role=Role.ADMIN)
    invoice = open_invoice()
    stage = default_pipeline_ensure().stages.order_by("position", "id").first()
    deal = Deal.objects.create(name="Harbour cranes", pipeline=stage.pipeline, stage=stage, amount_currency="EUR")
    connection.set_schema_to_public()
    return {"invoice": invoice, "deal": deal}


def _watch(page):
    """Collect CSP violations as the browser reports them (console errors and securitypolicyviolation events)."""
    seen = []
    page.on(
        "console",
        lambda msg: seen.append(msg.text) if msg.type == "error" and "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return seen


def test_main_pages_have_no_csp_violations(page, live_server_port, csp_data):
    base = f"http://live.localhost:{live_server_port}"
    violations = _watch(page)
    response = page.goto(f"{base}/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_label("Email").fill("carla@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Carla Csp")).to_be_visible()
    invoice, deal = csp_data["invoice"], csp_data["deal"]
    for path in [
        "/",
        f"/crm/deals/{deal.pk}/",
        "/crm/deals/",
        f"/billing/invoices/{invoice.pk}/",
        f"/billing/i/{invoice.public_token}/",
        f"/payments/pay/{invoice.public_token}/",
    ]:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
    # Scripts from static files still run: the language select submits itself.
    page.goto(f"{base}/crm/deals/")
    page.locator("#language-select").select_option("nl")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert violations == []
