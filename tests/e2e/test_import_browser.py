"""CSV import in the browser, at phone width: upload, change a column's field (htmx preview), the progress bar,
the report, and importing only the valid rows."""

import re

import pytest
from django.db import connection
from playwright.sync_api import expect

from commerce_hub.accounts.models import Role, User
from crm.models import Company, Contact

pytestmark = pytest.mark.e2e
PASSWORD = "browser-import-pass-1"


@pytest.fixture
def live_importer(live_tenant, eager_tasks):
    user = User.objects.create_user(
        email="importer@live.example", password=PASSWORD, full_name="Ivo Import", role=Role.SALES
    )
    Company.objects.create(name="Acme B.V.", domain="acme.nl")
    connection.set_schema_to_public()
    return user


def test_import_contacts_on_a_phone(browser, live_server_port, live_importer, screenshot, tmp_path, live_tenant):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    base = f"http://live.localhost:{live_server_port}"
    csv_file = tmp_path / "contacten.csv"
    csv_file.write_bytes(
        "Voornaam;E-mail;Bedrijf;Notitie\r\n"
        "Jan;jan@acme.nl;Acme B.V.;vaste klant\r\n"
        "Piet;piet-at-acme;acme.nl;\r\n"
        "Kari;kari@fjord.no;;ny\r\n".encode("utf-8-sig")
    )
    try:
        page.goto(f"{base}/login/")
        page.get_by_label("Email").fill("importer@live.example")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.goto(f"{base}/crm/import/contact/")
        page.get_by_label("CSV file").set_input_files(str(csv_file))
        page.get_by_role("button", name="Upload").click()

        expect(page.get_by_role("heading", name="2. Choose the field each column fills")).to_be_visible()
        expect(page.get_by_label("Voornaam")).to_have_value("first_name")
        expect(page.get_by_label("Notitie")).to_have_value("")
        preview = page.locator("#preview")
        expect(preview).not_to_contain_text("vaste klant")
        page.get_by_label("Notitie").select_option("job_title")  # htmx swaps in the new preview
        expect(preview).to_contain_text("vaste klant")
        screenshot(page, "import-mapping-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_role("button", name="Check every row").click()

        expect(page.get_by_role("heading", name="4. Import")).to_be_visible()
        expect(page.locator("tbody")).to_contain_text("“piet-at-acme” is not a valid email address.")
        expect(page.get_by_role("button", name="Import all rows")).to_be_disabled()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "import-report-phone")
        page.get_by_role("button", name="Import the 2 valid rows").click()

        expect(page.get_by_text("Imported 2 contacts.")).to_be_visible()
        page.get_by_role("link", name="Show contacts").click()
        expect(page).to_have_url(re.compile(r"/crm/contacts/"))
        connection.set_tenant(live_tenant)
        assert sorted(Contact.objects.values_list("email", "job_title")) == [
            ("jan@acme.nl", "vaste klant"),
            ("kari@fjord.no", "ny"),
        ]
    finally:
        connection.set_schema_to_public()
        context.close()
