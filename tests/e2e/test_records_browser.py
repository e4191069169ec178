"""Record pages in chromium: inline edit (save, error, Escape), notes, tasks, associations, and phone width."""

import re
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from commerce_hub.accounts.models import Role, User
from crm.defaults import LIFECYCLE_STAGES
from crm.demo_data import default_pipeline_ensure, seed_realistic
from crm.models import Company, Contact, Deal, LifecycleStage

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def live_records(live_tenant):
    # An earlier live test's clean-up empties every tenant table, the lifecycle stages of migration crm.0003 too,
    # and the live server caches their labels under its own key prefix, across test sessions.
    for position, (key, label) in enumerate(LIFECYCLE_STAGES):
        LifecycleStage.objects.get_or_create(key=key, defaults={"label": label, "position": position})
    caches.create_connection("default").delete("crm:lifecycle-labels")
    User.objects.create_user(email="sanne@live.example", password=PASSWORD, full_name="Sanne de Vries", role=Role.ADMIN)
    seed_realistic(default_pipeline_ensure())
    company = Company.objects.get(name="Fjordkraft Energi AS")
    deal = Deal.objects.filter(company=company).first()
    outsider = Contact.objects.exclude(company=company).order_by("id").first()
    ids = {"company": company.pk, "deal": deal.pk, "outsider": outsider.full_name, "email": outsider.email}
    connection.set_schema_to_public()
    return ids


def _sign_in(page, port):
    page.goto(f"http://live.localhost:{port}/login/")
    page.get_by_label("Email").fill("sanne@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Sanne de Vries")).to_be_visible()


def test_inline_edit_notes_and_tasks_on_a_company_page(page, live_server_port, live_records, screenshot):
    base = f"http://live.localhost:{live_server_port}"
    _sign_in(page, live_server_port)
    page.goto(f"{base}/crm/companies/{live_records['company']}/")
    expect(page.get_by_role("heading", name="Fjordkraft Energi AS")).to_be_visible()

    # Save a value: Enter submits the one-field form and the display comes back in place.
    page.get_by_label("Edit City").click()
    city = page.locator("#id_inline-city")
    expect(city).to_be_focused()
    city.fill("Bergen sentrum")
    city.press("Enter")
    expect(page.locator("#prop-city .prop-value")).to_have_text("Bergen sentrum")

    # A bad value: the message sits under the field, and Escape puts the old value back.
    page.get_by_label("Edit Domain").click()
    # Focus arrives once htmx has swapped the form in and wired it; typing Enter earlier would post it natively.
    expect(page.locator("#id_inline-domain")).to_be_focused()
    page.locator("#id_inline-domain").fill("not a domain")
    page.locator("#id_inline-domain").press("Enter")
    expect(page.locator("#prop-domain .field-error")).to_have_text("“not a domain” is not a domain like example.com.")
    screenshot(page, "record-inline-error")
    page.locator("#id_inline-domain").press("Escape")
    expect(page.locator("#prop-domain .prop-value")).to_have_text("fjordkraftenergi.no")

    # Lifecycle through its select; the header badge follows.
    page.get_by_label("Edit Lifecycle stage").click()
    expect(page.locator("#prop-lifecycle_stage select")).to_be_focused()
    page.locator("#prop-lifecycle_stage select").select_option(label="Evangelist")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#record-header")).to_contain_text("Evangelist")

    # A note goes on top of the timeline and the box empties.
    page.get_by_label("Note", exact=True).fill("Wants a demo in March.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline-list > li").first).to_contain_text("Wants a demo in March.")
    expect(page.get_by_label("Note", exact=True)).to_have_value("")

    # A task due yesterday is overdue; completing it lands in the timeline.
    page.get_by_label("Task", exact=True).fill("Send the price list")
    page.get_by_label("Due date").fill((timezone.localdate() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Add task").click()
    row = page.locator("#tasks .task-row", has_text="Send the price list")
    expect(row.locator(".badge-danger")).to_have_text("Overdue")
    page.get_by_label("Complete “Send the price list”").click()
    expect(page.locator("#tasks .task-row.task-done")).to_contain_text("Send the price list")
    expect(page.locator("#timeline-list")).to_contain_text("Task completed: Send the price list")
    screenshot(page, "record-company")


def test_deal_contacts_are_added_by_search(page, live_server_port, live_records):
    _sign_in(page, live_server_port)
    page.goto(f"http://live.localhost:{live_server_port}/crm/deals/{live_records['deal']}/")
    page.get_by_text("Add an existing contact").click()
    name = live_records["outsider"]
    page.get_by_label("Search contacts").press_sequentially(name.split()[0])
    page.get_by_label(f"Add {name} ({live_records['email']})").click()
    expect(page.locator("#associations")).to_contain_text(name)
    expect(page.get_by_label(f"Remove {name} from this deal")).to_be_visible()
    with schema_context("t_live"):
        assert Deal.objects.get(pk=live_records["deal"]).contacts.filter(email=live_records["email"]).exists()


def test_record_pages_fit_a_phone(browser, live_server_port, live_records, screenshot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    base = f"http://live.localhost:{live_server_port}"
    try:
        _sign_in(page, live_server_port)
        for name, path in [
            ("company", f"/crm/companies/{live_records['company']}/"),
            ("deal", f"/crm/deals/{live_records['deal']}/"),
            ("new-deal", "/crm/deals/new/"),
            ("delete-company", f"/crm/companies/{live_records['company']}/delete/"),
            ("my-tasks", "/crm/tasks/"),
        ]:
            page.goto(base + path)
            expect(page.locator("main h1").first).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
            screenshot(page, f"phone-{name}")
        page.goto(f"{base}/crm/companies/{live_records['company']}/")
        page.get_by_label("Edit Name").click()
        expect(page.locator("#id_inline-name")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        expect(page).to_have_url(re.compile(r"/crm/companies/\d+/$"))
    finally:
        context.close()
