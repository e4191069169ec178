"""The invoices index: default views, aging buckets, filters and sort, view totals per currency, saved views,
keyset pagination, CSV export, the invoices panel of CRM records, bad input and a constant number of queries."""

import csv
import io
import zoneinfo
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.models import Invoice, InvoicePayment, InvoiceStatus
from billing.services.credit_notes import LineCredit, credit_note_create
from billing.services.invoice_payments import invoice_mark_uncollectible, invoice_record_payment, invoice_void
from billing.services.invoices import invoice_create, invoice_finalize
from commerce_hub.accounts.models import AuditEntry, Role
from commerce_hub.money import money_format
from commerce_hub.organization.models import OrganizationProfile
from commerce_hub.saved_views.models import SavedView
from crm.models import Company, Contact, Deal, Stage
from tests.billing.invoicing import buyer_make, draft_make, seller_ready
from tests.conftest import user_make

URL = "/billing/invoices/"
TOTALS = "/billing/invoices/totals/"
EXPORT = "/billing/invoices/export/"
CONSULTING = (("Consulting", "2", "100.00", "BTW 21%"),)  # 200.00 net + 42.00 VAT = 242.00
SUPPORT = (("Support", "1", "50.00", "BTW 21%"),)  # 50.00 net + 10.50 VAT = 60.50


def tenant_today() -> date:
    """The day the index counts from: the tenant's, whatever the server's timezone."""
    from django.utils import timezone

    return timezone.localdate(timezone=zoneinfo.ZoneInfo(OrganizationProfile.objects.get(pk=1).timezone))


def issued(*, due: date, currency="EUR", lines=CONSULTING, company=None, contacts=None, deal=None) -> Invoice:
    """A finalized invoice due on `due`: issued that day when it lies in the past, today otherwise (the due date
    is fixed at finalization, so it has to be right from the start)."""
    today = tenant_today()
    draft = draft_make(currency=currency, lines=lines, company=company, contacts=contacts)
    Invoice.objects.filter(pk=draft.pk).update(custom_due_date=due, deal=deal)
    draft.refresh_from_db()
    return invoice_finalize(invoice=draft, actor=None, issue_date=min(due, today))


def pay(invoice: Invoice, amount: str) -> None:
    invoice_record_payment(
        invoice=invoice, amount=Decimal(amount), paid_on=tenant_today(), method="bank_transfer", actor=None
    )


def rows(response) -> list[str]:
    assert response.status_code == 200
    return [r.number or f"draft-{r.pk}" for r in response.context["page"].rows]


def numbers(*invoices: Invoice) -> list[str]:
    return [i.number or f"draft-{i.pk}" for i in invoices]


@pytest.fixture
def book(tenant_alpha):
    """Open, overdue (every aging boundary), partially paid, paid, void, uncollectible and draft invoices, in EUR
    and NOK."""
    seller_ready()
    today = tenant_today()
    day = lambda n: today + timedelta(days=n)  # noqa: E731
    b = {}
    b["A"] = issued(due=day(-1))  # 1 day overdue
    b["B"] = issued(due=day(-30))
    b["C"] = issued(due=day(-31), currency="NOK", lines=SUPPORT)
    b["D"] = issued(due=day(-60))
    pay(b["D"], "42.00")  # partly paid, but overdue is what it reads
    b["E"] = issued(due=day(-61))
    b["F"] = issued(due=day(-90), currency="NOK", lines=SUPPORT)
    b["G"] = issued(due=day(-91))
    b["H"] = issued(due=day(10), currency="NOK", lines=SUPPORT)
    pay(b["H"], "10.50")  # partially paid, not yet due
    b["I"] = issued(due=today)  # due today: not overdue
    b["P"] = issued(due=day(5))
    pay(b["P"], "242.00")
    b["V"] = invoice_void(invoice=issued(due=day(5)), actor=None)
    b["U"] = invoice_mark_uncollectible(invoice=issued(due=day(-100), currency="NOK", lines=SUPPORT), actor=None)
    b["Dr"] = draft_make()
    for key in b:
        b[key].refresh_from_db()
    return b


@pytest.fixture
def pair(tenant_alpha):
    """One overdue and one open invoice."""
    seller_ready()
    today = tenant_today()
    return issued(due=today - timedelta(days=3)), issued(due=today + timedelta(days=3))


def keys(book, *names):
    return numbers(*(book[n] for n in names))


# --- default views ----------------------------------------------------------------------------------------------------


DEFAULT_VIEWS = {
    "view=drafts": ["Dr"],
    # Open is every invoice still to be paid, soonest due first: the overdue ones, then I (today) and H.
    "view=open": ["G", "F", "E", "D", "C", "B", "A", "I", "H"],
    "view=overdue": ["G", "F", "E", "D", "C", "B", "A"],  # most overdue first
    "view=paid": ["P"],
    "view=aging": ["G", "F", "E", "D", "C", "B", "A"],
    "view=aging&bucket=1-30": ["B", "A"],
    "view=aging&bucket=31-60": ["D", "C"],
    "view=aging&bucket=61-90": ["F", "E"],
    "view=aging&bucket=90%2B": ["G"],
}


def test_default_views_hold_exactly_their_invoices(admin_client, book):
    got = {query: rows(admin_client.get(f"{URL}?{query}")) for query in DEFAULT_VIEWS}
    assert got == {query: keys(book, *expected) for query, expected in DEFAULT_VIEWS.items()}


def test_all_view_lists_every_invoice_newest_first(admin_client, book):
    order = ["Dr", "U", "V", "P", "I", "H", "G", "F", "E", "D", "C", "B", "A"]
    assert rows(admin_client.get(URL)) == keys(book, *order)


def test_rows_show_derived_status_and_days_overdue(admin_client, book):
    response = admin_client.get(URL)
    by_number = {r.number or "draft": r for r in response.context["page"].rows}
    status = {k: by_number[book[k].number or "draft"].display_status for k in book}
    assert status == {
        "A": "overdue",
        "B": "overdue",
        "C": "overdue",
        "D": "overdue",
        "E": "overdue",
        "F": "overdue",
        "G": "overdue",
        "H": "partially_paid",
        "I": "open",
        "P": "paid",
        "V": "void",
        "U": "uncollectible",
        "Dr": "draft",
    }
    assert by_number[book["D"].number].days_overdue == 60
    assert by_number[book["D"].number].balance_due == Decimal("200.00")
    assert by_number[book["I"].number].days_overdue == 0
    html = response.content.decode()
    assert "60 days overdue" in html and "1 day overdue" in html
    assert '<span class="badge badge-danger">Overdue</span>' in html
    assert '<span class="badge stage-open">Partially paid</span>' in html
    assert '<span class="badge badge-ok">Paid</span>' in html
    assert '<span class="badge badge-muted">Void</span>' in html
    assert money_format(Decimal("60.50"), "NOK", "en_IE") in html
    assert "€242.00" in html
    assert ">Draft</a>" in html


def test_aging_buckets_count_and_sum_per_currency_at_the_boundaries(admin_client, book):
    response = admin_client.get(f"{URL}?view=aging")
    got = {
        bucket.key: [(line.currency, line.count, line.balance_due) for line in bucket.lines]
        for bucket, _link in response.context["aging"]
    }
    assert got == {
        "1-30": [("EUR", 2, Decimal("484.00"))],  # 1 and 30 days
        "31-60": [("EUR", 1, Decimal("200.00")), ("NOK", 1, Decimal("60.50"))],  # 60 (partly paid) and 31 days
        "61-90": [("EUR", 1, Decimal("242.00")), ("NOK", 1, Decimal("60.50"))],  # 61 and 90 days
        "90+": [("EUR", 1, Decimal("242.00"))],  # 91 days; the uncollectible one is not owed any more
    }
    links = {bucket.key: link for bucket, link in response.context["aging"]}
    assert links["31-60"] == "view=aging&bucket=31-60"
    # Picking a bucket narrows the rows, not the tiles.
    narrowed = admin_client.get(f"{URL}?{links['31-60']}")
    assert [len(b.lines) for b, _l in narrowed.context["aging"]] == [1, 2, 2, 1]
    assert rows(narrowed) == keys(book, "D", "C")


def test_due_this_month_takes_the_calendar_month_in_the_tenants_timezone(admin_client, tenant_alpha):
    seller_ready()
    today = tenant_today()
    first = today.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    last = next_month - timedelta(days=1)
    inside_first = issued(due=first)
    inside_last = issued(due=last, currency="NOK")
    issued(due=first - timedelta(days=1))  # last day of the month before
    issued(due=next_month)  # first day of the next month
    paid = issued(due=last)
    pay(paid, "242.00")
    assert rows(admin_client.get(f"{URL}?view=due_this_month")) == numbers(inside_first, inside_last)


def test_view_totals_per_currency_cover_every_matching_row_not_only_the_page(admin_client, book, monkeypatch):
    monkeypatch.setattr("billing.views.invoice_index.PAGE_SIZE", 2)
    page = admin_client.get(URL)
    assert len(page.context["page"].rows) == 2
    assert 'hx-get="/billing/invoices/totals/?' in page.content.decode()  # the footer loads them
    response = admin_client.get(TOTALS, HTTP_HX_REQUEST="true")
    totals = [(t.currency, t.count, t.total, t.balance_due) for t in response.context["totals"]]
    # EUR: 8 finalized of 242.00 and a draft; owed: A, B, E, G, I in full and D less 42.00 (P paid, V void).
    # NOK: 4 of 60.50; owed: C and F in full and H less 10.50 (U uncollectible).
    assert totals == [
        ("EUR", 9, Decimal("1936.00"), Decimal("1410.00")),
        ("NOK", 4, Decimal("242.00"), Decimal("171.00")),
    ]
    overdue = admin_client.get(f"{TOTALS}?view=overdue&currency=NOK", HTTP_HX_REQUEST="true")
    assert [(t.currency, t.count, t.total, t.balance_due) for t in overdue.context["totals"]] == [
        ("NOK", 2, Decimal("121.00"), Decimal("121.00"))
    ]
    html = response.content.decode()
    assert "9 invoices in EUR in this view" in html
    assert "€1,410.00" in html


# --- filters, search and sort -----------------------------------------------------------------------------------------


FILTERS = {
    "status=partially_paid": ["H"],
    "status=open": ["I"],
    "status=overdue&currency=NOK": ["F", "C"],
    "status=void&status=uncollectible": ["U", "V"],
    "status=draft": ["Dr"],
    "currency=NOK": ["U", "H", "F", "C"],
    "days_overdue_min=31&days_overdue_max=61": ["E", "D", "C"],
    "days_overdue_min=91": ["G"],
    "view=open&days_overdue_max=0": ["I", "H"],
    "total_min=100&view=overdue": ["G", "E", "D", "B", "A"],
    "total_max=60.50&view=open": ["F", "C", "H"],
}


def test_filters_give_exact_rows(admin_client, book):
    got = {query: rows(admin_client.get(f"{URL}?{query}")) for query in FILTERS}
    assert got == {query: keys(book, *expected) for query, expected in FILTERS.items()}


def test_date_ranges_number_company_and_contact_filters(admin_client, book):
    today = tenant_today()
    due_after, due_before = (today - timedelta(days=61)).isoformat(), (today - timedelta(days=31)).isoformat()
    assert rows(admin_client.get(f"{URL}?view=overdue&due_date_after={due_after}&due_date_before={due_before}")) == (
        keys(book, "E", "D", "C")
    )
    issue = (today - timedelta(days=90)).isoformat()
    assert rows(admin_client.get(f"{URL}?issue_date_after={issue}&issue_date_before={issue}")) == keys(book, "F")
    number = book["E"].number
    assert rows(admin_client.get(f"{URL}?number={number}")) == [number]
    assert rows(admin_client.get(f"{URL}?q={number}")) == [number]
    company, contact = buyer_make(name="Zuiderzee Logistiek B.V.", email="els@zuiderzee.example")
    contact.first_name, contact.last_name = "Els", "Visser"
    contact.save()
    own = issued(due=today, company=company, contacts=[contact])
    assert rows(admin_client.get(f"{URL}?company=zuiderzee")) == numbers(own)
    assert rows(admin_client.get(f"{URL}?q=Zuiderzee")) == numbers(own)
    assert rows(admin_client.get(f"{URL}?contact=visser")) == numbers(own)


def test_sorts_are_stable_and_reversible(admin_client, book):
    by_total = rows(admin_client.get(f"{URL}?view=overdue&sort=total"))
    # Ties keep a stable order by id.
    assert by_total == keys(book, "C", "F", "A", "B", "D", "E", "G")
    assert rows(admin_client.get(f"{URL}?view=overdue&sort=-total")) == list(reversed(by_total))
    assert rows(admin_client.get(f"{URL}?view=overdue&sort=-balance")) == keys(book, "G", "E", "B", "A", "D", "F", "C")
    # Drafts have no number: they sort lowest.
    assert rows(admin_client.get(f"{URL}?sort=number")) == keys(
        book, "Dr", "A", "B", "C", "D", "E", "F", "G", "H", "I", "P", "V", "U"
    )
    assert rows(admin_client.get(f"{URL}?sort=-due_date&view=open"))[:2] == keys(book, "H", "I")
    assert rows(admin_client.get(f"{URL}?view=overdue&sort=nonsense")) == keys(book, "G", "F", "E", "D", "C", "B", "A")


def test_keyset_pages_cover_every_row_once(admin_client, book, monkeypatch):
    monkeypatch.setattr("billing.views.invoice_index.PAGE_SIZE", 3)
    for query in ("", "sort=total", "sort=-balance", "view=overdue", "sort=issue_date"):
        seen, cursor, pages = [], None, 0
        while True:
            url = f"{URL}?{query}" + (f"&after={cursor}" if cursor else "")
            response = admin_client.get(url)
            seen += rows(response)
            pages += 1
            cursor = response.context["page"].next_cursor
            if not cursor:
                break
        expected = 7 if query == "view=overdue" else 13
        assert len(seen) == len(set(seen)) == expected, query
        assert pages == -(-expected // 3), query
        monkeypatch.setattr("billing.views.invoice_index.PAGE_SIZE", 100)
        assert seen == rows(admin_client.get(f"{URL}?{query}")), query
        monkeypatch.setattr("billing.views.invoice_index.PAGE_SIZE", 3)


# --- saved views ------------------------------------------------------------------------------------------------------


def test_personal_saved_view_is_its_owners_and_keeps_its_default_view(client_alpha, book):
    finance, other = user_make(Role.FINANCE), user_make(Role.FINANCE)
    client_alpha.force_login(finance)
    query = "view=overdue&currency=NOK&after=junk"
    response = client_alpha.post(reverse("billing:invoice_view_save"), {"name": "NOK overdue", "query": query})
    view = SavedView.objects.get(name="NOK overdue")
    assert (view.owner, view.query) == (finance, "currency=NOK")
    assert response["Location"] == f"{URL}?view={view.pk}"

    # Saved from the Overdue tab: the form carries that default view along.
    page = client_alpha.get(f"{URL}?view=overdue&currency=NOK")
    assert page.context["index"].save_query == "currency=NOK&base=overdue"
    client_alpha.post(reverse("billing:invoice_view_save"), {"name": "NOK late", "query": "currency=NOK&base=overdue"})
    late = SavedView.objects.get(name="NOK late")
    assert rows(client_alpha.get(f"{URL}?view={late.pk}")) == keys(book, "F", "C")
    assert [v.name for v in client_alpha.get(URL).context["saved_views"]] == ["NOK late", "NOK overdue"]

    other_client = Client(HTTP_HOST="alpha.localhost")
    other_client.force_login(other)
    foreign = other_client.get(f"{URL}?view={late.pk}")
    assert len(rows(foreign)) == 13  # not theirs: all invoices, with a note
    assert "That saved view does not exist (any more); showing all invoices." in foreign.content.decode()
    assert list(foreign.context["saved_views"]) == []
    assert other_client.get(reverse("billing:invoice_view_delete", args=[late.pk])).status_code == 404
    assert other_client.post(reverse("billing:invoice_view_delete", args=[late.pk])).status_code == 404


def test_shared_view_is_seen_by_the_team_and_deleted_after_a_confirm_step(client_alpha, book):
    finance, viewer = user_make(Role.FINANCE), user_make(Role.READ_ONLY)
    client_alpha.force_login(finance)
    client_alpha.post(
        reverse("billing:invoice_view_save"), {"name": "Team drafts", "query": "base=drafts", "shared": "on"}
    )
    shared = SavedView.objects.get(name="Team drafts")
    assert shared.owner is None
    assert AuditEntry.objects.filter(action="invoice.view_shared", object_id=str(shared.pk)).exists()

    viewer_client = Client(HTTP_HOST="alpha.localhost")
    viewer_client.force_login(viewer)
    assert rows(viewer_client.get(f"{URL}?view={shared.pk}")) == keys(book, "Dr")
    # Read-only users may keep personal views but not share them.
    viewer_client.post(reverse("billing:invoice_view_save"), {"name": "Mine", "query": "", "shared": "on"})
    assert not SavedView.objects.filter(name="Mine").exists()
    assert viewer_client.get(reverse("billing:invoice_view_delete", args=[shared.pk])).status_code == 403
    assert viewer_client.post(reverse("billing:invoice_view_delete", args=[shared.pk])).status_code == 403

    confirm = client_alpha.get(reverse("billing:invoice_view_delete", args=[shared.pk]))
    assert confirm.status_code == 200
    assert "Delete the view “Team drafts”?" in confirm.content.decode()
    assert SavedView.objects.filter(pk=shared.pk).exists()
    response = client_alpha.post(reverse("billing:invoice_view_delete", args=[shared.pk]))
    assert response.status_code == 302
    assert not SavedView.objects.filter(pk=shared.pk).exists()


# --- CSV export -------------------------------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


HEADER = [
    "Invoice number",
    "Status",
    "Invoice date",
    "Due date",
    "Buyer name",
    "Buyer VAT number",
    "Buyer country",
    "Currency",
    "Net amount",
    "VAT amount",
    "Total",
    "Paid",
    "Credited",
    "Balance due",
    "Days overdue",
    "Reference",
]


def test_export_writes_machine_readable_rows_of_the_view(admin_client, book, admin_user):
    today = tenant_today()
    credit_note_create(invoice=book["B"], actor=None, lines=[LineCredit(index=0, quantity=Decimal("1"))])
    table = _csv(admin_client.get(f"{EXPORT}?view=aging&bucket=1-30"))
    assert table[0] == HEADER
    b = book["B"]
    assert table[1] == [
        b.number,
        "Overdue",
        (today - timedelta(days=30)).isoformat(),
        (today - timedelta(days=30)).isoformat(),
        "Fjordline AS",
        "NO974760673MVA",
        "NO",
        "EUR",
        "200.00",
        "42.00",
        "242.00",
        "0.00",
        "121.00",
        "121.00",
        "30",
        b.number,
    ]
    assert [r[0] for r in table[1:]] == keys(book, "B", "A")
    entry = AuditEntry.objects.get(action="invoice.exported")
    assert entry.actor == admin_user and entry.after["query"] == "view=aging&bucket=1-30"

    d = _csv(admin_client.get(f"{EXPORT}?number={book['D'].number}"))[1]
    assert d[1:2] + d[8:15] == ["Overdue", "200.00", "42.00", "242.00", "42.00", "0.00", "200.00", "60"]
    draft = _csv(admin_client.get(f"{EXPORT}?view=drafts"))[1]
    assert draft == ["", "Draft", "", "", "Fjordline AS", "NO974760673MVA", "NO", "EUR"] + [""] * 3 + [
        "0.00",
        "0.00",
        "0.00",
        "0",
        "",
    ]


def test_export_walks_every_page_and_neutralises_formulas(admin_client, tenant_alpha, monkeypatch):
    monkeypatch.setattr("billing.views.invoice_index.EXPORT_CHUNK", 2)
    seller_ready()
    company, contact = buyer_make(name='=HYPERLINK("http://evil.example")', email="x@evil.example")
    made = [issued(due=tenant_today(), company=company, contacts=[contact]) for _ in range(5)]
    table = _csv(admin_client.get(f"{EXPORT}?sort=number"))
    assert [r[0] for r in table[1:]] == numbers(*made)
    assert {r[4] for r in table[1:]} == {'\'=HYPERLINK("http://evil.example")'}


def test_read_only_can_view_but_not_export(client_alpha, book):
    client_alpha.force_login(user_make(Role.READ_ONLY))
    response = client_alpha.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Export CSV" not in html and "New invoice" not in html
    assert client_alpha.get(EXPORT).status_code == 403
    assert not AuditEntry.objects.filter(action="invoice.exported").exists()


@pytest.mark.parametrize("role", [Role.FINANCE, Role.SALES])
def test_finance_and_sales_see_export_and_new_invoice(client_alpha, tenant_alpha, role):
    client_alpha.force_login(user_make(role))
    html = client_alpha.get(URL).content.decode()
    assert f'href="{reverse("billing:invoice_new")}"' in html
    assert f'href="{EXPORT}?"' in html


# --- empty states -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("", "No invoices yet"),
        ("view=overdue", "No overdue invoices — nice."),
        ("view=drafts", "No drafts"),
        ("view=due_this_month", "Nothing due this month"),
        ("view=paid", "No paid invoices yet"),
        ("view=aging", "No overdue invoices — nice."),
        ("q=nothing-like-this", "Nothing matches this view"),
    ],
)
def test_each_view_has_its_empty_state(admin_client, query, title):
    response = admin_client.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert title in response.content.decode()


# --- the invoices panel of CRM records --------------------------------------------------------------------------------


def _panel(response):
    assert response.status_code == 200
    found = [context for panel, context in response.context["panels"] if panel.name == "invoices"]
    assert len(found) == 1
    return found[0]


def test_record_pages_list_their_own_invoices(admin_client, tenant_alpha):
    seller_ready()
    company, contact = buyer_make(name="Haarlem Hout B.V.", email="piet@haarlem.example")
    _other_company, other_contact = buyer_make(name="Utrecht Staal B.V.", email="anna@utrecht.example")
    stage = Stage.objects.select_related("pipeline").first()
    deal = Deal.objects.create(name="Hout 2026", company=company, pipeline=stage.pipeline, stage=stage)
    today = tenant_today()
    older = issued(due=today - timedelta(days=12), company=company, contacts=[contact])
    on_deal = issued(due=today, company=company, contacts=[contact], deal=deal)
    draft = invoice_create(actor=None, company=company, contacts=[])
    issued(due=today, company=None, contacts=[other_contact])

    company_panel = _panel(admin_client.get(reverse("crm:company_detail", args=[company.pk])))
    assert [r.pk for r in company_panel["rows"]] == [draft.pk, on_deal.pk, older.pk]
    assert company_panel["view_all_url"] == f"{URL}?company_id={company.pk}"
    assert company_panel["create_url"] == reverse("billing:invoice_create_from", args=["company", company.pk])
    assert [r.pk for r in _panel(admin_client.get(reverse("crm:contact_detail", args=[contact.pk])))["rows"]] == [
        on_deal.pk,
        older.pk,
    ]
    deal_page = admin_client.get(reverse("crm:deal_detail", args=[deal.pk]))
    assert [r.pk for r in _panel(deal_page)["rows"]] == [on_deal.pk]
    html = admin_client.get(reverse("crm:company_detail", args=[company.pk])).content.decode()
    assert "12 days overdue" in html and ">Create invoice</button>" in html and "View all" in html

    # "View all" leads to the index filtered to the record.
    assert rows(admin_client.get(f"{URL}?company_id={company.pk}")) == numbers(draft, on_deal, older)
    assert rows(admin_client.get(f"{URL}?contact_id={contact.pk}")) == numbers(on_deal, older)
    filtered = admin_client.get(f"{URL}?deal_id={deal.pk}")
    assert rows(filtered) == numbers(on_deal)
    assert "Hout 2026" in filtered.content.decode()


def test_record_panel_shows_ten_newest_and_an_empty_state(client_alpha, tenant_alpha):
    seller_ready()
    company, _contact = buyer_make(name="Groningen Glas B.V.", email="g@glas.example")
    made = [invoice_create(actor=None, company=company) for _ in range(11)]
    viewer = user_make(Role.READ_ONLY)
    client_alpha.force_login(viewer)
    panel = _panel(client_alpha.get(reverse("crm:company_detail", args=[company.pk])))
    assert [r.pk for r in panel["rows"]] == [i.pk for i in reversed(made)][:10]
    assert panel["has_more"] is True and panel["can_create"] is False
    empty, _c = buyer_make(name="Leeg B.V.", email="leeg@example.com")
    html = client_alpha.get(reverse("crm:company_detail", args=[empty.pk])).content.decode()
    assert "No invoices yet" in html and "Create invoice" not in html


# --- bad input --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("issue_date_after=2026-13-45", "Enter a valid date."),
        ("due_date_before=yesterday", "Enter a valid date."),
        ("company_id=abc", "Enter a whole number."),
        ("contact_id=99999999999999999999", "Ensure this value is less than or equal to"),
        ("deal_id=-4", "Ensure this value is greater than or equal to 1."),
        ("total_min=lots", "Enter a number."),
        ("total_min=1e200000", "Ensure that there are no more than 20 digits in total."),
        ("days_overdue_min=-1", "Ensure this value is greater than or equal to 0."),
        ("status=late", "Select a valid choice."),
        ("currency=XXX", "Select a valid choice."),
        ("company=%00", "Null characters are not allowed."),
    ],
)
def test_bad_filters_show_why_and_no_rows(admin_client, pair, query, message):
    response = admin_client.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert response.context["page"].rows == []
    assert admin_client.get(f"{TOTALS}?{query}", HTTP_HX_REQUEST="true").context["totals"] == []
    html = response.content.decode()
    assert "Some filters cannot be applied, so nothing is shown:" in html and message in html
    assert _csv(admin_client.get(f"{EXPORT}?{query}")) == [HEADER]


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("view=bogus", "There is no such view; showing all invoices."),
        ("view=123456", "That saved view does not exist (any more); showing all invoices."),
        ("after=forged-cursor", ""),
        ("after=eyJvIjpbIl9zb3J0X3ZhbHVlIl19:1abc:def", ""),
        ("sort=;drop table", ""),
        ("view=aging&bucket=1000-2000", ""),
        ("q=%00%00", ""),
    ],
)
def test_bad_views_and_cursors_fall_back_to_the_first_page(admin_client, pair, query, notice):
    response = admin_client.get(f"{URL}?{query}")
    assert response.status_code == 200
    overdue, due_later = pair
    expected = [overdue] if query.startswith("view=aging") else [due_later, overdue]
    assert rows(response) == numbers(*expected)
    if notice:
        assert notice in response.content.decode()


def test_non_numeric_ids_in_urls_are_not_found(admin_client, tenant_alpha):
    assert admin_client.get("/billing/invoices/views/abc/delete/").status_code == 404
    assert admin_client.get("/billing/invoices/views/999999/delete/").status_code == 404


# --- queries ----------------------------------------------------------------------------------------------------------


def _bulk(count: int, *, company: Company | None = None) -> None:
    """Finalized invoices written directly (the guard trigger watches updates, not inserts): half to companies,
    half to a contact only (all to `company` when given), some with payments."""
    today = tenant_today()
    only = company
    company = company or Company.objects.create(name="Bulk Bedrijf B.V.", country="NL")
    contact = Contact.objects.create(first_name="Bo", last_name="Bulk", email=f"bo{count}@bulk.example")
    start = (
        Invoice.objects.filter(sequence__isnull=False).order_by("-sequence").values_list("sequence", flat=True).first()
        or 0
    ) + 1
    made = Invoice.objects.bulk_create(
        [
            Invoice(
                status=InvoiceStatus.OPEN,
                number=f"BULK-{start + i}",
                sequence=start + i,
                currency="EUR" if i % 3 else "NOK",
                company=company if only or i % 2 else None,
                issue_date=today - timedelta(days=40),
                due_date=today - timedelta(days=i % 50 + 1),
                total=Decimal("100.00"),
                snapshot={"total": "100.00", "vat_total": "0.00", "buyer": {"name": "Bulk"}},
            )
            for i in range(count)
        ]
    )
    Invoice.contacts.through.objects.bulk_create(
        [Invoice.contacts.through(invoice_id=i.pk, contact_id=contact.pk) for i in made]
    )
    InvoicePayment.objects.bulk_create(
        [
            InvoicePayment(invoice=i, amount=Decimal("10.00"), currency=i.currency, paid_on=today, method="cash")
            for i in made[::4]
        ]
    )


def _queries(client, url) -> list[str]:
    """The statements a request runs, without django-tenants' search_path switches."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SET search_path")]


def _count(client, url) -> int:
    return len(_queries(client, url))


@pytest.mark.parametrize("query", ["", "view=overdue", "view=aging&currency=EUR", "sort=-balance&status=overdue"])
def test_query_count_does_not_grow_with_the_rows(admin_client, tenant_alpha, query):
    _bulk(5)
    admin_client.get(f"{URL}?{query}")  # warm the session and the profile cache
    small = _queries(admin_client, f"{URL}?{query}")
    _bulk(90)
    response = admin_client.get(f"{URL}?{query}")
    assert len(response.context["page"].rows) == 50
    large = _queries(admin_client, f"{URL}?{query}")
    assert len(large) == len(small)
    # The page rows (and on the aging view the buckets); the other reads are the domain, the session, the user,
    # its permissions and the saved views. The aggregates also switch JIT off for their transaction.
    reads = [sql for sql in large if sql.startswith("SELECT")]
    on_invoices = [sql for sql in reads if ' FROM "billing_invoice" ' in sql]
    assert len(on_invoices) == (2 if "aging" in query else 1)
    assert len(reads) <= 8
    # The totals: one GROUP BY over every matching row, however many there are.
    totals = _queries(admin_client, f"{TOTALS}?{query}")
    assert len([sql for sql in totals if sql.startswith("SELECT") and ' FROM "billing_invoice" ' in sql]) == 1


def test_a_company_page_with_many_invoices_runs_the_same_queries(admin_client, tenant_alpha):
    company = Company.objects.create(name="Bulk Bedrijf B.V.", country="NL")
    _bulk(3, company=company)
    url = reverse("crm:company_detail", args=[company.pk])
    admin_client.get(url)
    small = _count(admin_client, url)
    _bulk(30, company=company)
    assert _count(admin_client, url) == small
