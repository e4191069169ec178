import re
from decimal import Decimal

import pytest
from django.db import connection
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from commerce_hub.accounts.models import Role, User
from crm.models import Company, Deal, Pipeline, Stage

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def board_data(live_tenant):
    User.objects.create_user(email="sanne@live.example", password=PASSWORD, full_name="Sanne de Vries", role=Role.ADMIN)
    Pipeline.objects.all().delete()
    pipeline = Pipeline.objects.create(name="Sales pipeline", is_default=True)
    stages = {
        name: Stage.objects.create(pipeline=pipeline, name=name, probability=p, kind=kind, position=i)
        for i, (name, p, kind) in enumerate([("Qualified", 20, "open"), ("Proposal", 60, "open"), ("Won", 100, "won")])
    }
    company = Company.objects.create(name="Fjordkraft Energi AS", country="NO", currency="NOK")

    def deal(name, stage, amount, currency):
        return Deal.objects.create(
            name=name,
            pipeline=pipeline,
            stage=stages[stage],
            amount=Decimal(amount),
            amount_currency=currency,
            company=company,
        )

    deals = {
        "licence": deal("Annual licence", "Qualified", "1000", "EUR"),
        "nok": deal("Fjord expansion", "Qualified", "20000", "NOK"),
        "pilot": deal("Pilot", "Proposal", "500", "EUR"),
        "gone": deal("Onboarding package", "Proposal", "250", "EUR"),
    }
    connection.set_schema_to_public()
    return stages, deals


def _sign_in_to_board(page, port):
    page.goto(f"http://live.localhost:{port}/crm/deals/board/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/crm/deals/board/$"))
    page.get_by_label("Email").fill("sanne@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/crm/deals/board/$"))


def _stage_of(deal) -> str:
    with schema_context("t_live"):
        return Deal.objects.select_related("stage").get(pk=deal.pk).stage.name


def test_drag_a_deal_to_another_column_and_the_totals_follow(page, live_server_port, board_data, screenshot):
    stages, deals = board_data
    _sign_in_to_board(page, live_server_port)
    column = {name: page.locator(f'.board-column[data-stage="{stage.pk}"]') for name, stage in stages.items()}
    summary = {name: page.locator(f"#stage-summary-{stage.pk}") for name, stage in stages.items()}
    expect(summary["Qualified"]).to_contain_text("2 deals")
    expect(summary["Qualified"]).to_contain_text("€1,000.00")
    expect(summary["Qualified"]).to_contain_text("NOK20,000.00")
    expect(summary["Proposal"]).to_contain_text("2 deals")
    expect(summary["Proposal"]).to_contain_text("€750.00")
    screenshot(page, "deals-board")

    card = page.locator(f"#deal-{deals['licence'].pk}")
    card.drag_to(column["Proposal"].locator(".board-cards"))
    expect(column["Proposal"].locator(f"#deal-{deals['licence'].pk}")).to_be_visible()
    expect(summary["Proposal"]).to_contain_text("3 deals")
    expect(summary["Proposal"]).to_contain_text("€1,750.00")
    expect(summary["Qualified"]).to_contain_text("1 deal")
    expect(summary["Qualified"]).not_to_contain_text("€")
    expect(summary["Qualified"]).to_contain_text("NOK20,000.00")
    assert _stage_of(deals["licence"]) == "Proposal"

    # Keyboard and phone fallback: the card's "Move to…" select.
    page.get_by_label("Move “Pilot” to").select_option(label="Won")
    expect(column["Won"].locator(f"#deal-{deals['pilot'].pk}")).to_be_visible()
    expect(summary["Won"]).to_contain_text("€500.00")
    expect(summary["Proposal"]).to_contain_text("€1,250.00")
    assert _stage_of(deals["pilot"]) == "Won"

    # A refused move puts the card back and says why.
    with schema_context("t_live"):
        Deal.objects.filter(pk=deals["gone"].pk).delete()
    gone = page.locator(f"#deal-{deals['gone'].pk}")
    gone.drag_to(column["Won"].locator(".board-cards"))
    expect(page.locator("#board-status")).to_have_text("The deal could not be moved. Try again.")
    expect(column["Proposal"].locator(f"#deal-{deals['gone'].pk}")).to_be_visible()
    expect(summary["Won"]).to_contain_text("1 deal")
    screenshot(page, "deals-board-after-moves")


def test_board_fits_a_phone_screen(browser, live_server_port, board_data, screenshot):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        _sign_in_to_board(page, live_server_port)
        expect(page.locator(".board-column").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the board scrolls, not the page
        screenshot(page, "deals-board-phone")
    finally:
        context.close()


@pytest.mark.parametrize("width", [320, 390, 1440, 1920])
def test_a_board_of_many_stages_scrolls_inside_itself_and_the_top_bar_fits(
    browser, live_server_port, board_data, width
):
    stages, _deals = board_data
    pipeline = stages["Won"].pipeline
    with schema_context("t_live"):
        for i in range(6):  # nine columns in all: wider than any screen
            stage = Stage.objects.create(
                pipeline=pipeline, name=f"Stage {i}", probability=50, kind="open", position=10 + i
            )
            Deal.objects.create(
                name=f"Deal {i}", pipeline=pipeline, stage=stage, amount=Decimal(5), amount_currency="EUR"
            )
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        _sign_in_to_board(page, live_server_port)
        expect(page.locator(".board-column")).to_have_count(9)
        sizes = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.querySelector('.topbar').scrollWidth,"
            " document.querySelector('.board').scrollWidth > document.querySelector('.board').clientWidth]"
        )
        assert sizes[0] <= width and sizes[1] <= width  # the page and the top bar fit (2032 and 357 px before)
        assert sizes[2]  # the columns scroll inside the board
    finally:
        context.close()


def test_admin_adds_a_stage_and_it_becomes_a_column(page, live_server_port, board_data, screenshot):
    stages, _deals = board_data
    _sign_in_to_board(page, live_server_port)
    page.get_by_role("link", name="Edit stages").click()
    expect(page.get_by_role("heading", name="Sales pipeline")).to_be_visible()
    page.locator("#id_stage-name").fill("Negotiation")
    page.locator("#id_stage-probability").fill("150")
    page.get_by_role("button", name="Add stage").click()
    expect(page.locator("#id_stage-probability_error")).to_have_text("Ensure this value is less than or equal to 100.")
    screenshot(page, "pipeline-stage-error")
    page.locator("#id_stage-probability").fill("75")
    page.get_by_role("button", name="Add stage").click()
    expect(page.locator(".flash-success")).to_have_text("Stage “Negotiation” added.")
    page.get_by_role("button", name="Move Negotiation up").click()
    expect(page.locator("tbody tr").nth(2)).to_contain_text("Negotiation")
    screenshot(page, "pipeline-stages")
    page.get_by_role("link", name="Open the board").click()
    expect(page.locator(".board-column h2")).to_have_text(["Qualified", "Proposal", "Negotiation", "Won"])
