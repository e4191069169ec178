from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from commerce_hub.accounts.models import Role
from crm.models import Company, Deal, DealStageChange, Pipeline, Stage
from crm.selectors_board import board_columns, board_pipeline
from tests.conftest import user_make

JSON = {"HTTP_ACCEPT": "application/json"}


@pytest.fixture
def pipeline(tenant_alpha):
    pipeline = Pipeline.objects.create(name="Board test", position=5)
    for position, (name, probability, kind) in enumerate(
        [("Qualified", 20, "open"), ("Proposal", 60, "open"), ("Won", 100, "won"), ("Lost", 0, "lost")]
    ):
        Stage.objects.create(pipeline=pipeline, name=name, probability=probability, kind=kind, position=position)
    return pipeline


def _stage(pipeline, name) -> Stage:
    return pipeline.stages.get(name=name)


def _deal(pipeline, stage_name, amount, currency="EUR", **extra) -> Deal:
    return Deal.objects.create(
        name=extra.pop("name", f"{stage_name} {amount} {currency}"),
        pipeline=pipeline,
        stage=_stage(pipeline, stage_name),
        amount=None if amount is None else Decimal(amount),
        amount_currency=currency,
        **extra,
    )


def _board(client, pipeline):
    return client.get(f"/crm/deals/board/?pipeline={pipeline.pk}")


def test_board_totals_are_per_stage_and_per_currency(admin_client, pipeline):
    _deal(pipeline, "Qualified", "1000.00")
    _deal(pipeline, "Qualified", "250.50")
    _deal(pipeline, "Qualified", "5000", "NOK")
    _deal(pipeline, "Qualified", None)
    _deal(pipeline, "Proposal", "12500", "NOK")

    columns = {c.stage.name: c for c in board_columns(pipeline=pipeline)}
    assert list(columns) == ["Qualified", "Proposal", "Won", "Lost"]
    assert columns["Qualified"].summary.count == 4
    assert columns["Qualified"].summary.totals == [Money("1250.50", "EUR"), Money("5000.00", "NOK")]
    assert columns["Proposal"].summary.totals == [Money("12500", "NOK")]
    assert (columns["Won"].summary.count, columns["Won"].summary.totals) == (0, [])

    response = _board(admin_client, pipeline)
    assert response.status_code == 200
    qualified = _column_html(response, _stage(pipeline, "Qualified"))
    assert "4 deals" in qualified
    assert "€1,250.50" in qualified
    assert "NOK5,000.00" in qualified
    assert "NOK12,500.00" in _column_html(response, _stage(pipeline, "Proposal"))
    assert "0 deals" in _column_html(response, _stage(pipeline, "Won"))


def _column_html(response, stage) -> str:
    html = response.content.decode()
    start = html.index(f'data-stage="{stage.pk}" data-kind=')
    end = html.find('<section class="board-column"', start)
    return html[start : end if end != -1 else len(html)]


def test_board_cards_show_name_company_amount_owner_and_close_date(admin_client, pipeline, admin_user):
    company = Company.objects.create(name="Fjordkraft Energi AS", country="NO", currency="NOK")
    _deal(
        pipeline,
        "Proposal",
        "48000",
        "NOK",
        name="Fjordkraft – Annual licence",
        company=company,
        owner=admin_user,
        close_date=date(2031, 3, 14),
    )
    column = _column_html(_board(admin_client, pipeline), _stage(pipeline, "Proposal"))
    assert "Fjordkraft – Annual licence" in column
    assert "Fjordkraft Energi AS" in column
    assert "NOK48,000.00" in column
    assert ">AA</span>" in column  # Anna Admin's initials
    assert 'datetime="2031-03-14"' in column
    assert "60%" in column  # the stage's win probability


def test_overdue_close_date_is_highlighted_only_in_open_stages(admin_client, pipeline):
    past = date.today() - timedelta(days=3)
    late = _deal(pipeline, "Qualified", "100", name="Late open deal", close_date=past)
    won = _deal(pipeline, "Won", "100", name="Late won deal", close_date=past)
    future = _deal(pipeline, "Qualified", "100", name="Future deal", close_date=date.today() + timedelta(days=3))
    html = _board(admin_client, pipeline).content.decode()
    assert f'class="deal-card overdue" id="deal-{late.pk}"' in html
    assert f'class="deal-card" id="deal-{won.pk}"' in html
    assert f'class="deal-card" id="deal-{future.pk}"' in html


def test_board_queries_do_not_grow_with_the_number_of_deals(admin_client, pipeline, admin_user):
    company = Company.objects.create(name="Acme")
    for name in ("Qualified", "Proposal", "Won"):
        _deal(pipeline, name, "10", company=company, owner=admin_user)
    _board(admin_client, pipeline)  # session, permissions and tenant settings are cached after the first page
    with CaptureQueriesContext(connection) as few:
        assert _board(admin_client, pipeline).status_code == 200
    for name in ("Qualified", "Proposal", "Won", "Lost"):
        for i in range(5):
            other = Company.objects.create(name=f"Other {name} {i}")
            _deal(pipeline, name, "10", "NOK", company=other, owner=user_make(Role.SALES))
    with CaptureQueriesContext(connection) as many:
        assert _board(admin_client, pipeline).status_code == 200
    assert len(many) == len(few)
    deal_queries = [q["sql"] for q in many if 'FROM "crm_deal"' in q["sql"]]
    # One bounded card query per stage (with company and owner joined), and one for the totals.
    assert len(deal_queries) == pipeline.stages.count() + 1, deal_queries


def test_a_column_shows_at_most_100_cards_and_links_to_the_rest(admin_client, pipeline):
    stage = _stage(pipeline, "Qualified")
    Deal.objects.bulk_create(
        Deal(name=f"Bulk {i}", pipeline=pipeline, stage=stage, amount=Decimal(1), amount_currency="EUR")
        for i in range(103)
    )
    column = _column_html(_board(admin_client, pipeline), stage)
    assert column.count('<li class="deal-card') == 100
    assert "103 deals" in column
    assert "€103.00" in column  # the totals count every deal, not only the cards shown
    assert f'href="/crm/deals/?stage={stage.pk}">+3 more</a>' in column


def test_board_opens_the_default_pipeline_and_switches_with_the_pipeline_parameter(admin_client, pipeline):
    default = board_pipeline(pipeline_id=None)
    assert default.is_default or not Pipeline.objects.filter(is_default=True).exists()
    assert board_pipeline(pipeline_id=str(pipeline.pk)) == pipeline
    assert board_pipeline(pipeline_id="999999") == default
    assert board_pipeline(pipeline_id="x; drop") == default
    response = _board(admin_client, pipeline)
    html = response.content.decode()
    assert f'<option value="{pipeline.pk}" selected>Board test</option>' in html
    assert 'href="/crm/deals/">Table</a>' in html


def test_move_changes_the_stage_records_the_change_and_returns_new_totals(admin_client, pipeline, admin_user):
    deal = _deal(pipeline, "Qualified", "1000")
    _deal(pipeline, "Proposal", "500")
    proposal = _stage(pipeline, "Proposal")
    response = admin_client.post(f"/crm/deals/{deal.pk}/move/", {"stage": proposal.pk}, **JSON)
    assert response.status_code == 200
    data = response.json()
    assert (data["ok"], data["deal"], data["stage"]) == (True, deal.pk, proposal.pk)
    deal.refresh_from_db()
    assert deal.stage == proposal
    change = DealStageChange.objects.get(deal=deal, from_stage__isnull=False)
    assert (change.from_stage.name, change.to_stage.name, change.changed_by) == ("Qualified", "Proposal", admin_user)
    columns = data["columns"]
    assert set(columns) == {str(s.pk) for s in pipeline.stages.all()}
    assert "2 deals" in columns[str(proposal.pk)] and "€1,500.00" in columns[str(proposal.pk)]
    assert "0 deals" in columns[str(_stage(pipeline, "Qualified").pk)]


def test_move_to_a_stage_of_another_pipeline_is_refused(admin_client, pipeline):
    deal = _deal(pipeline, "Qualified", "1000")
    other = Pipeline.objects.create(name="Partners")
    foreign = Stage.objects.create(pipeline=other, name="Signed", probability=100, kind="won")
    response = admin_client.post(f"/crm/deals/{deal.pk}/move/", {"stage": foreign.pk}, **JSON)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error": "That stage is not part of this deal's pipeline."}
    deal.refresh_from_db()
    assert deal.stage.name == "Qualified"
    assert not DealStageChange.objects.filter(deal=deal).exists()


def test_move_without_a_stage_is_refused(admin_client, pipeline):
    deal = _deal(pipeline, "Qualified", "1000")
    response = admin_client.post(f"/crm/deals/{deal.pk}/move/", {"stage": ""}, **JSON)
    assert response.status_code == 400
    assert response.json()["error"] == "Choose a stage."


def test_read_only_users_see_the_board_but_cannot_move(tenant_alpha, pipeline):
    deal = _deal(pipeline, "Qualified", "1000")
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.READ_ONLY))
    board = _board(client, pipeline)
    assert board.status_code == 200
    html = board.content.decode()
    assert deal.name in html
    assert 'draggable="true"' not in html
    assert "move-form" not in html
    response = client.post(f"/crm/deals/{deal.pk}/move/", {"stage": _stage(pipeline, "Won").pk}, **JSON)
    assert response.status_code == 403
    deal.refresh_from_db()
    assert deal.stage.name == "Qualified"


def test_sales_users_can_move(tenant_alpha, pipeline):
    deal = _deal(pipeline, "Qualified", "1000")
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.SALES))
    response = client.post(f"/crm/deals/{deal.pk}/move/", {"stage": _stage(pipeline, "Won").pk}, **JSON)
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage.name == "Won"


def test_the_move_form_without_script_returns_to_the_board_with_a_message(admin_client, pipeline):
    deal = _deal(pipeline, "Qualified", "1000", name="Pilot")
    response = admin_client.post(f"/crm/deals/{deal.pk}/move/", {"stage": _stage(pipeline, "Lost").pk}, follow=True)
    assert response.redirect_chain == [(f"/crm/deals/board/?pipeline={pipeline.pk}", 302)]
    assert "“Pilot” moved to Lost." in response.content.decode()


def test_moving_an_unknown_deal_is_a_404(admin_client, pipeline):
    response = admin_client.post("/crm/deals/987654/move/", {"stage": _stage(pipeline, "Won").pk}, **JSON)
    assert response.status_code == 404


def test_board_shows_an_empty_hint_for_a_pipeline_without_deals(admin_client, pipeline):
    html = _board(admin_client, pipeline).content.decode()
    assert "No deals in this pipeline yet." in html
    assert html.count('class="board-column"') == 4
