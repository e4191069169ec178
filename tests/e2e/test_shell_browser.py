import re

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from commerce_hub.accounts.models import Role, User
from commerce_hub.tenancy.models import Tenant
from crm.demo_data import default_pipeline_ensure, seed_realistic

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def live_admin(live_tenant):
    user = User.objects.create_user(
        email="sanne@live.example", password=PASSWORD, full_name="Sanne de Vries", role=Role.ADMIN
    )
    seed_realistic(default_pipeline_ensure())
    connection.set_schema_to_public()
    return user


def _sign_in(page, port):
    page.goto(f"http://live.localhost:{port}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Email").fill("sanne@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Sanne de Vries")).to_be_visible()


def test_sign_in_switch_language_and_fix_a_form_error(page, live_server_port, live_admin, screenshot):
    port = live_server_port
    _sign_in(page, port)
    expect(page.locator(".stat").first).to_contain_text("24")
    screenshot(page, "home-en")

    page.locator("#language-select").select_option("nl")
    nav = page.locator(".sidebar")
    expect(nav.get_by_role("link", name="Bedrijven")).to_be_visible()
    expect(nav.get_by_role("link", name="Facturen")).to_be_visible()
    nav.get_by_role("link", name="Bedrijven").click()
    expect(page.get_by_role("heading", name="Bedrijven")).to_be_visible()
    expect(page.get_by_role("link", name="Van der Berg Logistiek B.V.")).to_be_visible()
    screenshot(page, "companies-nl")

    page.locator("#language-select").select_option("nb")
    expect(page.get_by_role("heading", name="Selskaper")).to_be_visible()
    nav.get_by_role("link", name="Innstillinger").click()
    page.get_by_label("MVA-nummer").fill("NL123456789B01")
    page.get_by_role("button", name="Lagre profil").click()
    error = page.locator("#id_vat_number_error")
    expect(error).to_be_visible()
    expect(page.locator("#id_vat_number")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "profile-error-nb")
    page.get_by_label("MVA-nummer").fill("NL162275869B01")
    page.get_by_role("button", name="Lagre profil").click()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.get_by_label("MVA-nummer")).to_have_value("NL162275869B01")


def test_phone_width_menu_and_empty_states(browser, live_server_port, live_admin, screenshot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        _sign_in(page, live_server_port)
        sidebar = page.locator(".sidebar")
        assert sidebar.bounding_box()["x"] < 0  # off-canvas until the menu is opened
        page.get_by_label("Menu").click()
        invoices = sidebar.get_by_role("link", name="Invoices")
        expect(invoices).to_be_in_viewport()
        page.wait_for_timeout(300)  # the slide-in transition
        screenshot(page, "menu-phone")
        invoices.click()
        expect(page.get_by_role("heading", name="No invoices yet")).to_be_visible()
        # No horizontal scrolling at phone width.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()


def test_signup_in_the_browser_lands_in_the_new_workspace(page, live_server_port, django_db_blocker):
    port = live_server_port
    with django_db_blocker.unblock():
        _signup_in_browser(page, port)


def _signup_in_browser(page, port):
    page.goto(f"http://localhost:{port}/signup/")
    page.get_by_label("Company name").fill("Lofoten Reiseliv AS")
    page.get_by_label("Subdomain").fill("www")
    page.get_by_label("Your name").fill("Ingrid Solberg")
    page.get_by_label("Work email").fill("ingrid@lofoten.example")
    page.get_by_label("Password").fill("nordlys-2026-x")
    page.wait_for_timeout(2100)  # a person takes a moment; a form sent back at once is refused as a bot's
    page.get_by_role("button", name="Create workspace").click()
    expect(page.get_by_text("“www” is reserved. Choose another subdomain.")).to_be_visible()
    page.get_by_label("Subdomain").fill("lofoten-e2e")
    page.get_by_label("Password").fill("nordlys-2026-x")
    page.get_by_role("button", name="Create workspace").click()
    try:
        expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
        # The workspace opens through the link emailed to the admin.
        from commerce_hub.events.models import OutgoingEmail

        with schema_context("t_lofoten_e2e"):
            text = OutgoingEmail.objects.get().text
        connection.set_schema_to_public()
        page.goto(re.search(r"(http://lofoten-e2e\.localhost:\d+/welcome/\S+/)", text).group(1))
        expect(page).to_have_url(f"http://lofoten-e2e.localhost:{port}/settings/company/")
        expect(page.get_by_text("Welcome to Commerce Hub. Start by completing your company profile.")).to_be_visible()
        expect(page.get_by_label("Legal name")).to_have_value("Lofoten Reiseliv AS")
    finally:
        connection.set_schema_to_public()
        for tenant in Tenant.objects.filter(schema_name="t_lofoten_e2e"):
            tenant.delete(force_drop=True)


def test_company_search_updates_the_list_as_you_type(page, live_server_port, live_admin):
    _sign_in(page, live_server_port)
    page.locator(".sidebar").get_by_role("link", name="Companies").click()
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(24)
    page.get_by_label("Search").press_sequentially("fjord")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Fjordkraft Energi AS")
    expect(page).to_have_url(re.compile(r"/crm/companies/\?q=fjord$"))
    page.get_by_label("Search").fill("no-such-company")
    page.get_by_label("Search").press("Enter")
    expect(page.get_by_role("heading", name="Nothing matches this view")).to_be_visible()
