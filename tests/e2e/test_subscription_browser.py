"""Subscriptions in chromium: the index and a record page read at 320, 390 and 1440 pixels without sideways scroll,
and the cancel-at-period-end confirmation works end to end."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Subscription
from billing.services.subscription_billing import subscriptions_bill_due
from commerce_hub.accounts.models import Role, User
from tests.billing.subscribing import subscription_make

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"
WIDTHS = (320, 390, 1440)


@pytest.fixture
def live_subscriptions(live_tenant):
    User.objects.create_user(email="finn@live.example", password=PASSWORD, full_name="Finn Finance", role=Role.ADMIN)
    today = timezone.localdate()
    first = today.replace(day=1)
    monthly = subscription_make(
        start=first,
        lines=(
            ("Commerce Hub Professional (per user)", "8", "49.00", "BTW 21%", None),
            ("Priority support with a rather long product name", "1", "450.00", "BTW 21%", None),
        ),
    )
    Subscription.objects.filter(pk=monthly.pk).update(name="Professional, 8 users")
    subscriptions_bill_due(
        now=datetime.combine(first, datetime.min.time(), ZoneInfo("Europe/Amsterdam")) + timedelta(hours=12),
        subscription_ids=[monthly.pk],
    )
    subscription_make(
        start=today + timedelta(days=10),
        status="scheduled",
        frequency="annual",
        currency="NOK",
        lines=(("Enterprise", "5", "9900", None, None),),
    )
    paused = subscription_make(start=first, status="paused")
    Subscription.objects.filter(pk=paused.pk).update(name="Paused plan")
    connection.set_schema_to_public()
    return {"monthly": monthly.pk}


def _sign_in(page, port):
    page.goto(f"http://live.localhost:{port}/login/")
    page.get_by_label("Email").fill("finn@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Finn Finance")).to_be_visible()


def _widest(page) -> int:
    """How far right the page's visible content reaches (the shell's top bar is the shell's business)."""
    return page.evaluate(
        "Math.max(...[...document.querySelectorAll('#main *')]"
        ".filter(e => e.checkVisibility({visibilityProperty: true, opacityProperty: true}))"
        ".map(e => Math.ceil(e.getBoundingClientRect().right)))"
    )


def test_index_and_record_page_fit_every_width(browser, live_server_port, live_subscriptions, screenshot):
    base = f"http://live.localhost:{live_server_port}"
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(15000)
        _sign_in(page, live_server_port)
        page.goto(f"{base}/billing/subscriptions/")
        expect(page.get_by_role("link", name="Professional, 8 users")).to_be_visible()
        screenshot(page, f"subscriptions-index-{width}")
        assert _widest(page) <= width
        page.goto(f"{base}/billing/subscriptions/{live_subscriptions['monthly']}/")
        expect(page.get_by_role("heading", name="Professional, 8 users")).to_be_visible()
        expect(page.locator("#upcoming-total")).to_have_text("€1,018.82")  # (392.00 + 450.00) + 21% VAT
        screenshot(page, f"subscription-record-{width}")
        assert _widest(page) <= width
        context.close()


def test_cancel_at_the_end_of_the_period_from_the_record_page(page, live_server_port, live_subscriptions, screenshot):
    base = f"http://live.localhost:{live_server_port}"
    _sign_in(page, live_server_port)
    page.goto(f"{base}/billing/subscriptions/{live_subscriptions['monthly']}/")
    page.get_by_role("button", name="Cancel", exact=True).click()
    expect(page.get_by_role("heading", name="Cancel Professional, 8 users")).to_be_visible()
    screenshot(page, "subscription-cancel")
    page.get_by_label("At the end of the current period").check()
    page.get_by_role("button", name="Cancel subscription").click()
    expect(page.get_by_text("The subscription cancels at the end of the current period.")).to_be_visible()
    expect(page.get_by_role("button", name="Don't cancel")).to_be_visible()
