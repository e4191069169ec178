"""The payment schedule step in chromium, at phone and desktop widths: a rep adds an installment, types a date in
the past, sees the error next to that row, fixes it, saves, and reads what each installment comes to."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import QuoteInstallment, QuoteStatus
from commerce_hub.accounts.models import Role, User
from tests.billing.quote_paying import quote_make

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def draft_quote(live_tenant):
    User.objects.create_user(email="sara@live.example", password=PASSWORD, full_name="Sara Sales", role=Role.SALES)
    quote, _publication = quote_make(status=QuoteStatus.DRAFT)  # 1,000.00 + 21% VAT
    connection.set_schema_to_public()
    return quote


def _fits(page) -> bool:
    return page.evaluate(
        "(() => { const m = document.querySelector('main'); return m.scrollWidth <= m.clientWidth; })()"
    )


@pytest.mark.parametrize("width", [320, 1920])
def test_a_rep_splits_a_quote_into_three_installments(
    page, live_server_port, live_tenant, draft_quote, screenshot, width
):
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"http://live.localhost:{live_server_port}/billing/quotes/{draft_quote.pk}/schedule/")
    expect(page).to_have_url(re.compile(r"/login/"))
    page.get_by_label("Email").fill("sara@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Payment schedule")).to_be_visible()
    expect(page.locator("#schedule-total-heading")).to_contain_text("€1,210.00")
    assert _fits(page)

    page.get_by_role("button", name="Add an installment").click()
    third = page.locator("#installment-3")
    expect(third).to_be_visible()
    page.locator("#id_installments-0-value").fill("20")
    page.locator("#id_installments-1-value").fill("50")
    page.locator("#id_installments-1-due_date").fill((timezone.localdate() + timedelta(days=30)).isoformat())
    third.get_by_label("Name").fill("Acceptance")
    third.get_by_label("Of the total").select_option("amount")
    third.get_by_label("Percentage or amount").fill("363")
    third.get_by_label("Due date").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Save the schedule").click()
    expect(third).to_contain_text("Choose a date after today.")
    assert _fits(page)
    screenshot(page, f"quote-schedule-error-{width}")

    third.get_by_label("Due date").fill((timezone.localdate() + timedelta(days=60)).isoformat())
    page.get_by_role("button", name="Save the schedule").click()
    expect(page.locator(".flash-success")).to_contain_text("Payment schedule saved.")
    amounts = page.locator("#schedule-amounts")
    expect(amounts).to_contain_text("€242.00")
    expect(amounts).to_contain_text("€605.00")
    expect(amounts).to_contain_text("€363.00")
    assert _fits(page)
    screenshot(page, f"quote-schedule-{width}")
    connection.set_tenant(live_tenant)
    assert QuoteInstallment.objects.filter(quote_id=draft_quote.pk).count() == 3
