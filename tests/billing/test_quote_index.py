"""The quotes index: default views, filters (state, owner, expiry, amount, company), search, sort, bad input, saved
views, keyset pagination, a constant number of queries, the empty state and the menu entry."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Quote, QuoteStatus
from commerce_hub.accounts.models import Role
from commerce_hub.saved_views.models import SavedView
from crm.models import Company
from tests.billing.quote_builder_data import client_for, deal_make, text_of
from tests.conftest import user_make

URL = "/billing/quotes/"


def titles(response) -> list[str]:
    assert response.status_code == 200
    return [row.title for row in response.context["page"].rows]


@pytest.fixture
def people(tenant_alpha):
    return {"rita": user_make(Role.SALES, full_name="Rita Rep"), "sam": user_make(Role.SALES, full_name="Sam Seller")}


@pytest.fixture
def book(tenant_alpha, people):
    """One quote per state, A oldest to H newest:

    A draft     +30  100.00   Rita  Fjordline      E paid      +5   1,200.00  Rita  —
    B published +3   2,500.00 Sam   Havbris        F declined  +20  300.00    Sam   —
    C viewed    -1   50.00    Rita  Fjordline      G approved  +7   (unpriced) —    —
    D expired   -10  999.99   Sam   Havbris        H signed    +8   75.50     —     —
    """
    today = timezone.localdate()
    fjordline = Company.objects.create(name="Fjordline AS")
    havbris = Company.objects.create(name="Havbris AS")
    deal = deal_make()
    rows = [
        ("A", QuoteStatus.DRAFT, 30, "100.00", "rita", fjordline),
        ("B", QuoteStatus.PUBLISHED, 3, "2500.00", "sam", havbris),
        ("C", QuoteStatus.VIEWED, -1, "50.00", "rita", fjordline),
        ("D", QuoteStatus.EXPIRED, -10, "999.99", "sam", havbris),
        ("E", QuoteStatus.PAID, 5, "1200.00", "rita", None),
        ("F", QuoteStatus.DECLINED, 20, "300.00", "sam", None),
        ("G", QuoteStatus.APPROVED, 7, None, None, None),
        ("H", QuoteStatus.SIGNED, 8, "75.50", None, None),
    ]
    start = timezone.now() - timedelta(hours=1)
    quotes = {}
    for index, (title, status, days, total, owner, company) in enumerate(rows):
        numbered = status not in (QuoteStatus.DRAFT, QuoteStatus.APPROVED)
        quotes[title] = Quote.objects.create(
            title=title,
            status=status,
            expires_on=today + timedelta(days=days),
            total=Decimal(total) if total else None,
            owner=people[owner] if owner else None,
            company=company,
            deal=deal,
            currency="EUR",
            number=f"Q-{1001 + index}" if numbered else None,
            sequence=1001 + index if numbered else None,
            created_at=start + timedelta(minutes=index),
        )
    return quotes


@pytest.fixture
def sales(tenant_alpha):
    return client_for(Role.SALES)


# --- default views ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["H", "G", "F", "E", "D", "C", "B", "A"]),  # newest first
        ("view=drafts", ["G", "A"]),
        ("view=published", ["C", "B"]),  # soonest expiry first
        ("view=expiring", ["B", "G"]),  # within 7 days (G on the 7th), not yet expired, still open
        ("view=won", ["H", "E"]),
        ("view=lost", ["F", "D", "C"]),  # C's date has passed though the expiry job has not marked it yet
    ],
)
def test_default_views(sales, book, query, expected):
    assert titles(sales.get(f"{URL}?{query}")) == expected


def test_a_quote_past_its_date_reads_expired_before_the_job_marks_it(sales, book):
    response = sales.get(f"{URL}?view=published")
    row = next(r for r in response.context["page"].rows if r.title == "C")
    assert (row.status, row.status_label) == ("viewed", "Expired")
    assert '<span class="badge badge-muted">Expired</span>' in response.content.decode()


def test_a_signed_quote_past_its_date_stays_signed(sales, book):
    """Its buyer signed in time: the date no longer matters, and the expiry job leaves it alone too."""
    Quote.objects.filter(title="H").update(expires_on=timezone.localdate() - timedelta(days=3))
    response = sales.get(f"{URL}?view=all")
    row = next(r for r in response.context["page"].rows if r.title == "H")
    assert (row.status, row.status_label) == ("signed", "Signed")
    assert titles(sales.get(f"{URL}?expiry=expired")) == ["D", "C"]


# --- filters and search -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=draft&status=approved", ["G", "A"]),
        ("owner={rita}", ["E", "C", "A"]),
        ("expiry=expired", ["D", "C"]),
        ("expiry=soon", ["G", "B"]),
        ("expires_on_after={plus5}&expires_on_before={plus20}", ["H", "G", "F", "E"]),
        ("total_min=100&total_max=1200", ["F", "E", "D", "A"]),
        ("total_min=1000", ["E", "B"]),
        ("total_max=99.99", ["H", "C"]),  # an unpriced quote has no total to compare
        ("company=fjord", ["C", "A"]),
        ("q=havbris", ["D", "B"]),
        ("q=Q-1004", ["D"]),
        ("view=lost&owner={sam}", ["F", "D"]),
        ("sort=total", ["G", "C", "H", "A", "F", "D", "E", "B"]),  # unpriced first
        ("sort=-expires_on", ["A", "F", "H", "G", "E", "B", "C", "D"]),
    ],
)
def test_filters_search_and_sort(sales, book, people, query, expected):
    today = timezone.localdate()
    query = query.format(
        rita=people["rita"].pk,
        sam=people["sam"].pk,
        plus5=(today + timedelta(days=5)).isoformat(),
        plus20=(today + timedelta(days=20)).isoformat(),
    )
    assert titles(sales.get(f"{URL}?{query}")) == expected


def test_amounts_are_read_in_the_readers_notation(book):
    dutch = client_for(Role.SALES, language="nl")
    assert titles(dutch.get(f"{URL}?total_min=1.000,00")) == ["E", "B"]
    assert titles(dutch.get(f"{URL}?total_max=75,50")) == ["H", "C"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("total_min=abc", "“abc” is not a number."),
        ("total_max=1000000000000", "Enter an amount below 1,000,000,000,000."),
        ("total_max=" + "9" * 50, "That number is too long."),
        ("total_min=NaN", "“NaN” is not a number."),
        ("total_min=500&total_max=100", "The minimum is above the maximum."),
        ("owner=999999", "Select a valid choice. That choice is not one of the available choices."),
        ("owner=abc", "Select a valid choice. That choice is not one of the available choices."),
        ("status=bogus", "Select a valid choice. bogus is not one of the available choices."),
        ("expiry=someday", "Select a valid choice. someday is not one of the available choices."),
        ("expires_on_after=2026-13-45", "Enter a valid date."),
        ("deal_id=0", "Ensure this value is greater than or equal to 1."),
        ("company_id=99999999999999999999999", "Ensure this value is less than or equal to"),
    ],
)
def test_bad_filter_input_shows_the_reason_and_no_rows_never_an_error(sales, book, query, message):
    response = sales.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert titles(response) == []
    text = text_of(response)
    assert "Some filters cannot be applied, so nothing is shown:" in text
    assert message in text


def test_unknown_views_and_sorts_fall_back(sales, book):
    response = sales.get(f"{URL}?view=999999&sort=bogus")
    assert titles(response) == ["H", "G", "F", "E", "D", "C", "B", "A"]
    assert "That saved view does not exist (any more); showing all quotes." in text_of(response)
    response = sales.get(f"{URL}?view=nonsense")
    assert "There is no such view; showing all quotes." in text_of(response)


def test_the_panel_link_scopes_the_index_to_a_record(sales, book):
    company = Company.objects.get(name="Havbris AS")
    response = sales.get(f"{URL}?company_id={company.pk}")
    assert titles(response) == ["D", "B"]
    assert "Company: Havbris AS" in text_of(response)
    deal = book["A"].deal
    assert len(titles(sales.get(f"{URL}?deal_id={deal.pk}"))) == 8


# --- saved views ------------------------------------------------------------------------------------------------------


def test_a_saved_view_keeps_its_filters_and_sort(sales, book):
    response = sales.post(
        f"{URL}views/save/", {"name": "My drafts", "query": "status=draft&status=approved&sort=total"}
    )
    view = SavedView.objects.get(index="billing.quote")
    assert response["Location"] == f"{URL}?view={view.pk}"
    assert (view.name, view.owner, view.query) == ("My drafts", sales.user, "status=draft&status=approved&sort=total")
    page = sales.get(f"{URL}?view={view.pk}")
    assert titles(page) == ["G", "A"]
    assert f'href="{URL}views/{view.pk}/delete/"' in page.content.decode()
    # Someone else does not see a personal view.
    other = client_for(Role.SALES)
    assert "That saved view does not exist" in text_of(other.get(f"{URL}?view={view.pk}"))
    assert other.post(f"{URL}views/{view.pk}/delete/").status_code == 404
    # Its owner deletes it after a confirmation page.
    assert "Delete the view “My drafts”?" in text_of(sales.get(f"{URL}views/{view.pk}/delete/"))
    sales.post(f"{URL}views/{view.pk}/delete/")
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_a_read_only_user_cannot_share_a_view_and_names_are_required(tenant_alpha):
    viewer = client_for(Role.READ_ONLY)
    response = viewer.post(f"{URL}views/save/", {"name": "Team", "shared": "on", "query": ""}, follow=True)
    assert "Your role cannot share views with the team." in text_of(response)
    response = viewer.post(f"{URL}views/save/", {"name": "", "query": ""}, follow=True)
    assert "Give the view a name." in text_of(response)
    assert not SavedView.objects.filter(index="billing.quote").exists()


def test_a_shared_view_is_seen_by_the_team(sales, book):
    sales.post(f"{URL}views/save/", {"name": "Lost deals", "shared": "on", "query": "base=lost"})
    view = SavedView.objects.get(index="billing.quote")
    assert view.owner is None
    viewer = client_for(Role.READ_ONLY)
    assert titles(viewer.get(f"{URL}?view={view.pk}")) == ["F", "D", "C"]


# --- pages and queries ------------------------------------------------------------------------------------------------


def _many(count: int) -> None:
    deal = deal_make(name="Bulk")
    company = Company.objects.create(name="Bulk AS")
    owner = user_make(Role.SALES, full_name="Bulk Owner")
    start = timezone.now() - timedelta(days=1)
    Quote.objects.bulk_create(
        Quote(
            title=f"Q{n:03d}",
            expires_on=timezone.localdate() + timedelta(days=30),
            currency="EUR",
            deal=deal,
            company=company,
            owner=owner,
            total=Decimal(n),
            created_at=start + timedelta(seconds=n),
        )
        for n in range(count)
    )


def test_keyset_pages_walk_every_quote_once(sales):
    _many(55)
    first = sales.get(URL)
    assert titles(first) == [f"Q{n:03d}" for n in range(54, 4, -1)]
    cursor = first.context["page"].next_cursor
    assert cursor and 'rel="next"' in first.content.decode()
    second = sales.get(f"{URL}?after={cursor}")
    assert titles(second) == ["Q004", "Q003", "Q002", "Q001", "Q000"]
    assert second.context["page"].next_cursor is None
    assert titles(sales.get(f"{URL}?after=forged-cursor"))[0] == "Q054"  # a forged cursor starts over


def test_the_index_reads_a_page_in_a_fixed_number_of_queries(sales, django_assert_max_num_queries):
    _many(3)
    sales.get(URL)  # warm the session and per-tenant caches
    with CaptureQueriesContext(connection) as few:
        sales.get(URL)
    _many(60)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = sales.get(URL)
    assert len(response.context["page"].rows) == 50


def test_an_empty_index_invites_a_new_quote(sales):
    response = sales.get(URL)
    text = text_of(response)
    assert "No quotes yet Quotes you build from deals appear here. New quote" in text
    assert 'href="/billing/quotes/new/"' in response.content.decode()
    assert "Nothing matches this view" in text_of(sales.get(f"{URL}?q=nothing"))
    viewer = client_for(Role.READ_ONLY)
    assert 'href="/billing/quotes/new/"' not in viewer.get(URL).content.decode()


def test_the_menu_leads_to_the_quotes_index(sales):
    html = sales.get("/").content.decode()
    assert '<a href="/billing/quotes/" class="">Quotes</a>' in html or 'href="/billing/quotes/"' in html
    assert sales.get("/quotes/").status_code == 404
    page = sales.get(URL).content.decode()
    assert '<a href="/billing/quotes/" class="active">Quotes</a>' in page.replace("\n", "").replace("  ", "")
