"""Notes, tasks, the activity timeline and the "My tasks" page."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone

from commerce_hub.accounts.models import Role
from crm.demo_data import default_pipeline_ensure
from crm.models import Company, Deal, DealStageChange, Note, Task
from crm.services.activities import note_delete, task_complete, task_reopen
from crm.timeline import _PROVIDERS, TimelineItem, timeline_page, timeline_provider
from tests.conftest import user_make

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def stages(tenant_alpha):
    return list(default_pipeline_ensure().stages.order_by("position", "id"))


@pytest.fixture
def company(tenant_alpha):
    return Company.objects.create(name="Hollandse Kaashandel B.V.")


@pytest.fixture
def deal(company, stages):
    return Deal.objects.create(
        name="Cheese export", pipeline=stages[0].pipeline, stage=stages[0], company=company, amount=Decimal("900")
    )


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- notes --------------------------------------------------------------------------------------------------------


def test_adding_a_note_prepends_it_and_resets_the_form(admin_client, admin_user, company):
    response = admin_client.post(
        f"/crm/companies/{company.pk}/notes/", {"note-body": "Met at the fair.\nWants samples."}, **HTMX
    )
    body = response.content.decode()
    note = Note.objects.get()
    assert (note.company, note.author, note.body) == (company, admin_user, "Met at the fair.\nWants samples.")
    assert body.lstrip().startswith(f'<li class="timeline-item timeline-note" id="note-{note.pk}">')
    assert "Met at the fair.<br>Wants samples." in body
    assert re.search(r'<form id="note-form"[^>]*hx-swap-oob="true"', body)


def test_an_empty_note_shows_its_error_in_the_form(admin_client, company):
    response = admin_client.post(f"/crm/companies/{company.pk}/notes/", {"note-body": "   "}, **HTMX)
    assert response["HX-Retarget"] == "#note-form"
    assert (
        '<small class="field-error" id="id_note-body_error">Write something first.</small>' in response.content.decode()
    )
    assert not Note.objects.exists()


def test_only_the_author_deletes_a_note(admin_client, admin_user, company):
    own = Note.objects.create(body="Mine", author=admin_user, company=company)
    other_author = user_make(Role.SALES)
    theirs = Note.objects.create(body="Theirs", author=other_author, company=company)
    page = admin_client.get(f"/crm/companies/{company.pk}/").content.decode()
    assert f'action="/crm/notes/{own.pk}/delete/"' in page
    assert f'action="/crm/notes/{theirs.pk}/delete/"' not in page
    assert 'data-confirm="Delete this note?"' in page

    assert admin_client.post(f"/crm/notes/{theirs.pk}/delete/").status_code == 403
    response = admin_client.post(f"/crm/notes/{own.pk}/delete/", **HTMX)
    assert (response.status_code, response.content) == (200, b"")
    assert list(Note.objects.values_list("body", flat=True)) == ["Theirs"]
    with pytest.raises(PermissionDenied):
        note_delete(note=theirs, actor=admin_user)


# --- tasks --------------------------------------------------------------------------------------------------------


def test_task_add_complete_and_reopen(admin_client, admin_user, deal):
    colleague = user_make(Role.SALES, full_name="Sem de Groot")
    response = admin_client.post(
        f"/crm/deals/{deal.pk}/tasks/",
        {"task-title": "Send the contract", "task-due_date": "2026-05-04", "task-owner": colleague.pk},
        **HTMX,
    )
    task = Task.objects.get()
    assert (task.deal, task.title, task.due_date.isoformat(), task.owner, task.created_by) == (
        deal,
        "Send the contract",
        "2026-05-04",
        colleague,
        admin_user,
    )
    assert response["HX-Trigger"] == "timelineChanged"
    assert "Send the contract" in text_of(response) and "Sem de Groot" in text_of(response)

    done = admin_client.post(f"/crm/tasks/{task.pk}/complete/", **HTMX)
    task.refresh_from_db()
    assert task.completed_at is not None
    assert "Reopen “Send the contract”" in text_of(done)
    first_completion = task.completed_at
    task_complete(task=task, actor=admin_user)  # twice: keeps the first completion
    assert task.completed_at == first_completion

    reopened = admin_client.post(f"/crm/tasks/{task.pk}/reopen/", **HTMX)
    task.refresh_from_db()
    assert task.completed_at is None
    assert "Complete “Send the contract”" in text_of(reopened)


def test_a_task_needs_a_title(admin_client, deal):
    response = admin_client.post(f"/crm/deals/{deal.pk}/tasks/", {"task-title": " "}, **HTMX)
    assert (
        '<small class="field-error" id="id_task-title_error">Give the task a title.</small>'
        in response.content.decode()
    )
    assert not Task.objects.exists()


def test_task_toggle_without_javascript_returns_to_where_it_was_clicked(admin_client, admin_user, deal):
    task = Task.objects.create(title="Call back", owner=admin_user, deal=deal)
    response = admin_client.post(f"/crm/tasks/{task.pk}/complete/", {"next": "/crm/tasks/"})
    assert response["Location"] == "/crm/tasks/"
    response = admin_client.post(f"/crm/tasks/{task.pk}/reopen/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/crm/deals/{deal.pk}/"


# --- my tasks -----------------------------------------------------------------------------------------------------


def _groups(response) -> dict[str, list[str]]:
    body = response.content.decode()
    sections = re.findall(r'<section class="card task-group task-group-(\w+)".*?</section>', body, re.S)
    blocks = re.split(r'<section class="card task-group task-group-\w+"', body)[1:]
    return {
        key: re.findall(r'<span class="task-title">(.*?)</span>', block.split("</section>")[0])
        for key, block in zip(sections, blocks, strict=True)
    }


def test_my_tasks_groups_open_tasks_by_due_date(admin_client, admin_user, company, deal):
    today = timezone.localdate()
    other = user_make(Role.SALES)
    for title, due, owner in [
        ("Chase invoice", today - timedelta(days=3), admin_user),
        ("Renew contract", today - timedelta(days=1), admin_user),
        ("Call Sanne", today, admin_user),
        ("Send samples", today + timedelta(days=2), admin_user),
        ("Plan visit", None, admin_user),
        ("Someone else's", today - timedelta(days=1), other),
    ]:
        Task.objects.create(title=title, due_date=due, owner=owner, company=company)
    Task.objects.create(title="Old call", owner=admin_user, deal=deal, completed_at=timezone.now())

    response = admin_client.get("/crm/tasks/")
    assert _groups(response) == {
        "overdue": ["Chase invoice", "Renew contract"],
        "today": ["Call Sanne"],
        "upcoming": ["Send samples"],
        "undated": ["Plan visit"],
    }
    body = text_of(response)
    assert body.count('<span class="badge badge-danger">Overdue</span>') == 2
    assert f'<a href="/crm/companies/{company.pk}/">Hollandse Kaashandel B.V.</a>' in body

    with_done = admin_client.get("/crm/tasks/?show=all")
    assert _groups(with_done)["completed"] == ["Old call"]


def test_my_tasks_without_tasks_shows_the_empty_state(admin_client):
    body = text_of(admin_client.get("/crm/tasks/"))
    assert "<h3>Nothing to do</h3>" in body


def test_completing_from_my_tasks_takes_one_click(admin_client, admin_user, company):
    task = Task.objects.create(title="Call Sanne", owner=admin_user, company=company)
    page = admin_client.get("/crm/tasks/").content.decode()
    assert f'hx-post="/crm/tasks/{task.pk}/complete/"' in page
    row = admin_client.post(f"/crm/tasks/{task.pk}/complete/", {"show_record": "1"}, **HTMX)
    assert "task-done" in row.content.decode()
    assert f'<a href="/crm/companies/{company.pk}/">' in row.content.decode()


# --- timeline -----------------------------------------------------------------------------------------------------


def _at(minutes_ago: int):
    return timezone.now() - timedelta(minutes=minutes_ago)


def test_timeline_merges_notes_tasks_and_stage_changes_newest_first(admin_client, admin_user, deal, stages):
    Deal.objects.filter(pk=deal.pk).update(created_at=_at(60))
    DealStageChange.objects.create(deal=deal, from_stage=None, to_stage=stages[0], changed_at=_at(60))
    DealStageChange.objects.create(deal=deal, from_stage=stages[0], to_stage=stages[1], changed_at=_at(40))
    Note.objects.create(body="First call went well", author=admin_user, deal=deal, created_at=_at(50))
    Task.objects.create(title="Send quote", deal=deal, created_at=_at(30), completed_at=_at(10))
    Note.objects.create(body="Quote accepted verbally", author=admin_user, deal=deal, created_at=_at(5))

    body = text_of(admin_client.get(f"/crm/deals/{deal.pk}/"))
    items = re.findall(r'<li class="timeline-item[^"]*"[^>]*>(.*?)</li>', body.split('id="timeline-list"')[1])
    summaries = []
    for item in items:
        summary = re.search(r"</time> <span>(.*?)</span>", item).group(1)
        note = re.search(r'<div class="note-body">(.*?)</div>', item)
        summaries.append(f"{summary}: {note.group(1)}" if note else summary)
    assert summaries == [
        "Note by Anna Admin: Quote accepted verbally",
        "Task completed: Send quote",
        "Task created: Send quote",
        "Stage changed from Appointment scheduled to Qualified to buy",
        "Note by Anna Admin: First call went well",
        "Deal created",
    ]


def test_timeline_pages_without_skipping_or_repeating(admin_user, company):
    Company.objects.filter(pk=company.pk).update(created_at=_at(100))
    company.refresh_from_db()
    same_moment = _at(20)
    for i in range(5):
        Note.objects.create(body=f"n{i}", author=admin_user, company=company, created_at=_at(30 + i))
    for i in range(3):  # three notes written in the same instant straddle the page boundary
        Note.objects.create(body=f"tie{i}", author=admin_user, company=company, created_at=same_moment)

    seen, cursor, pages = [], None, 0
    while True:
        page = timeline_page(company, cursor=cursor, limit=2)
        seen += [item.obj.body if item.kind == "note" else item.kind for item in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen[:3]) == ["tie0", "tie1", "tie2"]
    assert seen[3:] == ["n0", "n1", "n2", "n3", "n4", "created"]
    assert pages > 3


def test_show_more_loads_the_next_page(admin_client, admin_user, company, monkeypatch):
    import crm.timeline

    monkeypatch.setattr(crm.timeline, "PAGE_SIZE", 2)
    Company.objects.filter(pk=company.pk).update(created_at=_at(60))
    for i in range(3):
        Note.objects.create(body=f"note {i}", author=admin_user, company=company, created_at=_at(10 - i))
    page = admin_client.get(f"/crm/companies/{company.pk}/").content.decode()
    more = re.search(r'hx-get="(/crm/companies/\d+/timeline/\?cursor=[^"]+)"', page).group(1)
    assert "note 2" in page and "note 1" in page and "note 0" not in page
    rest = admin_client.get(more.replace("&amp;", "&"), **HTMX).content.decode()
    assert "note 0" in rest and "Company created" in rest and "note 2" not in rest


def test_other_apps_add_timeline_items_through_the_registry(admin_client, deal):
    @timeline_provider("deal")
    def quote_items(record, *, before, limit):
        return [TimelineItem(when=timezone.now(), template="crm/record/timeline/created.html", obj=record, kind="q")]

    try:
        kinds = [item.kind for item in timeline_page(deal).items]
        assert kinds[0] == "q" and kinds[-1] == "created"
        timeline_provider("deal")(quote_items)  # registering twice adds it once
        assert _PROVIDERS["deal"].count(quote_items) == 1
    finally:
        _PROVIDERS["deal"].remove(quote_items)


def test_read_only_users_cannot_write_notes_or_tasks(tenant_alpha, admin_user, company):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.READ_ONLY))
    task = Task.objects.create(title="Call", company=company, owner=admin_user)
    note = Note.objects.create(body="x", company=company, author=admin_user)
    assert client.post(f"/crm/companies/{company.pk}/notes/", {"note-body": "hi"}).status_code == 403
    assert client.post(f"/crm/companies/{company.pk}/tasks/", {"task-title": "hi"}).status_code == 403
    assert client.post(f"/crm/tasks/{task.pk}/complete/").status_code == 403
    assert client.post(f"/crm/notes/{note.pk}/delete/").status_code == 403
    assert client.get("/crm/tasks/").status_code == 200
    task_reopen(task=task, actor=admin_user)
    assert Note.objects.count() == 1 and Task.objects.get().completed_at is None
