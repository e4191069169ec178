"""The CRM in one sitting: create a company and a contact, create a deal, drag it to another stage on the board,
and save a filtered view of the deals."""

import re

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from commerce_hub.accounts.models import Role, User
from commerce_hub.saved_views.models import SavedView
from crm.models import Company, Contact, Deal

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def admin_in_live(live_tenant):
    User.objects.create_user(email="sanne@live.example", password=PASSWORD, full_name="Sanne de Vries", role=Role.ADMIN)
    connection.set_schema_to_public()


def test_company_contact_deal_board_and_saved_view(page, live_server_port, admin_in_live, screenshot):
    base = f"http://live.localhost:{live_server_port}"
    page.goto(f"{base}/crm/companies/")
    page.get_by_label("Email").fill("sanne@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # A company, from the empty index.
    expect(page.get_by_role("heading", name="No companies yet")).to_be_visible()
    page.locator(".empty-state").get_by_role("button", name="New").click()
    page.locator("#id_name").fill("Tulpenveld Bloemen B.V.")
    page.locator("#id_domain").fill("tulpenveld.nl")
    page.locator("#id_country").select_option("NL")
    page.locator("#id_vat_number").fill("NL162275869B01")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Tulpenveld Bloemen B.V.")).to_be_visible()

    # A contact at that company.
    page.goto(f"{base}/crm/contacts/new/")
    page.locator("#id_first_name").fill("Fleur")
    page.locator("#id_last_name").fill("van Dijk")
    page.locator("#id_email").fill("fleur@tulpenveld.nl")
    page.locator("#id_company").select_option(label="Tulpenveld Bloemen B.V.")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Fleur van Dijk")).to_be_visible()

    # A deal for the company, in the first stage.
    page.goto(f"{base}/crm/deals/new/")
    page.locator("#id_name").fill("Spring bulbs 2027")
    page.locator("#id_amount").fill("12500")
    page.locator("#id_company").select_option(label="Tulpenveld Bloemen B.V.")
    page.locator("#id_stage").select_option(label="Appointment scheduled")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_role("heading", name="Spring bulbs 2027")).to_be_visible()

    with schema_context("t_live"):
        deal = Deal.objects.select_related("company", "pipeline").get(name="Spring bulbs 2027")
        assert deal.company.name == "Tulpenveld Bloemen B.V."
        assert Contact.objects.get(email="fleur@tulpenveld.nl").company_id == deal.company_id
        assert Company.objects.get().vat_number == "NL162275869B01"
        target = deal.pipeline.stages.get(name="Presentation scheduled")
        # Another deal that stays behind, so the saved filter has something to leave out.
        Deal.objects.create(name="Autumn bulbs 2027", pipeline=deal.pipeline, stage=deal.stage)

    # Drag it on the board.
    page.goto(f"{base}/crm/deals/board/")
    card = page.locator(f"#deal-{deal.pk}")
    column = page.locator(f'.board-column[data-stage="{target.pk}"]')
    card.drag_to(column.locator(".board-cards"))
    expect(column.locator(f"#deal-{deal.pk}")).to_be_visible()
    expect(page.locator(f"#stage-summary-{target.pk}")).to_contain_text("€12,500.00")
    with schema_context("t_live"):
        assert Deal.objects.get(pk=deal.pk).stage_id == target.pk
    screenshot(page, "journey-board")

    # A filtered view of the deals in that stage, saved for later.
    page.goto(f"{base}/crm/deals/?stage={target.pk}")
    expect(page.locator("#results tbody tr")).to_have_count(1)
    page.get_by_text("Save view").click()
    page.get_by_label("View name").fill("Presentations")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("link", name="Presentations")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/crm/deals/\?view=\d+$"))
    expect(page.locator("#results tbody tr")).to_have_count(1)
    with schema_context("t_live"):
        saved = SavedView.objects.get(name="Presentations")
        assert saved.query == f"stage={target.pk}" and saved.index == "crm.deal"
    screenshot(page, "journey-saved-view")
