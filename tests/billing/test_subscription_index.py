"""The subscriptions index: default views (active, past due, canceling, trialing, paused, scheduled, ended), filters
(status, company, frequency, next billing date, MRR), search, sort, bad input, saved views, keyset pages, a fixed
number of queries, the empty state and the menu entry."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Subscription
from commerce_hub.accounts.models import Role
from commerce_hub.saved_views.models import SavedView
from crm.models import Company, Contact
from tests.billing.quote_builder_data import client_for, text_of

URL = "/billing/subscriptions/"


def names(response) -> list[str]:
    assert response.status_code == 200
    return [row.name for row in response.context["page"].rows]


def make(
    name, *, status="active", frequency="monthly", mrr="100.00", currency="EUR", next_in=10, company=None, **extra
):
    today = timezone.localdate()
    return Subscription.objects.create(
        name=name,
        status=status,
        frequency=frequency,
        currency=currency,
        mrr=D(mrr),
        company=company,
        start_date=today - timedelta(days=30),
        billing_anchor=today - timedelta(days=30),
        anchor_day=1,
        next_billing_date=today + timedelta(days=next_in),
        **extra,
    )


@pytest.fixture
def book(tenant_alpha):
    """A active monthly 100 EUR Fjordline; B past due 250 NOK Havbris; C canceling 40 EUR; D trialing; E paused;
    F scheduled; G canceled; H ended (A oldest, H newest)."""
    today = timezone.localdate()
    fjordline = Company.objects.create(name="Fjordline AS")
    havbris = Company.objects.create(name="Havbris AS")
    rows = [
        make("A", company=fjordline, next_in=3),
        make("B", status="past_due", currency="NOK", mrr="250.00", company=havbris, next_in=-2),
        make("C", mrr="40.00", cancel_at_period_end=True, next_in=12),
        make("D", trial_end=today + timedelta(days=5), mrr="0", next_in=5, frequency="annual"),
        make("E", status="paused", next_in=20),
        make("F", status="scheduled", next_in=40),
        make("G", status="canceled", mrr="0"),
        make("H", status="ended", mrr="0"),
    ]
    start = timezone.now() - timedelta(hours=1)
    for index, row in enumerate(rows):
        Subscription.objects.filter(pk=row.pk).update(created_at=start + timedelta(minutes=index))
    return {row.name: row for row in rows}


@pytest.fixture
def viewer(tenant_alpha):
    return client_for(Role.READ_ONLY)


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        ("all", ["H", "G", "F", "E", "D", "C", "B", "A"]),
        ("active", ["A", "D", "C"]),  # by next billing date
        ("past_due", ["B"]),
        ("canceling", ["C"]),
        ("trialing", ["D"]),
        ("paused", ["E"]),
        ("scheduled", ["F"]),
        ("ended", ["H", "G"]),
    ],
)
def test_each_default_view_shows_its_subscriptions(viewer, book, view, expected):
    assert names(viewer.get(f"{URL}?view={view}")) == expected


def test_the_row_shows_customer_status_frequency_next_billing_date_and_mrr_with_its_currency(viewer, book):
    text = text_of(viewer.get(f"{URL}?q=B"))
    assert "Havbris AS Past due Monthly" in text
    assert "Havbris AS Past due Monthly" in text and "NOK250.00" in text.replace("\xa0", "")
    text = text_of(viewer.get(f"{URL}?view=canceling"))
    assert "Active cancels at period end" in text and "€40.00" in text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=paused&status=scheduled", ["F", "E"]),
        ("company=fjord", ["A"]),
        ("frequency=annual", ["D"]),
        ("mrr_min=50&mrr_max=200", ["F", "E", "A"]),
        ("next_billing_date_after={soon}&next_billing_date_before={later}", ["F", "E", "C"]),
        ("sort=-mrr", ["B", "F", "E", "A", "C", "H", "G", "D"]),
        ("sort=name", ["A", "B", "C", "D", "E", "F", "G", "H"]),
        ("sort=next_billing_date&view=active", ["A", "D", "C"]),
    ],
)
def test_filters_and_sorts(viewer, book, query, expected):
    today = timezone.localdate()
    query = query.format(soon=(today + timedelta(days=11)).isoformat(), later=(today + timedelta(days=45)).isoformat())
    assert names(viewer.get(f"{URL}?{query}")) == expected


@pytest.mark.parametrize(
    "query",
    [
        "mrr_min=abc",
        "mrr_min=9999999999999999999999",
        "mrr_min=50&mrr_max=10",
        "next_billing_date_after=2027-02-30",
        "company_id=99999999999999999999",
        "status=bogus",
        "frequency=one_time",
    ],
)
def test_bad_filters_show_nothing_and_say_why(viewer, book, query):
    response = viewer.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert names(response) == []
    assert "Some filters cannot be applied" in text_of(response)


def test_a_record_scope_lists_only_its_subscriptions(viewer, book):
    company = book["A"].company
    response = viewer.get(f"{URL}?company_id={company.pk}")
    assert names(response) == ["A"]
    assert "Company: Fjordline AS" in text_of(response)


def test_a_view_can_be_saved_and_shared_views_need_the_manage_permission(book):
    finance = client_for(Role.FINANCE)
    response = finance.post(f"{URL}views/save/", {"name": "Big NOK", "query": "q=B", "shared": "on"})
    saved = SavedView.objects.get(name="Big NOK")
    assert response.status_code == 302 and response["Location"] == f"{URL}?view={saved.pk}"
    assert saved.owner_id is None  # shared
    assert names(finance.get(f"{URL}?view={saved.pk}")) == ["B"]
    assert "no such view" in text_of(finance.get(f"{URL}?view=nope"))


def test_keyset_pages_walk_every_subscription_once(viewer, tenant_alpha):
    for index in range(120):
        make(f"S{index:03d}", mrr=str(index))
    seen, url = [], f"{URL}?sort=mrr"
    while url:
        response = viewer.get(url)
        seen += names(response)
        cursor = response.context["page"].next_cursor
        url = f"{URL}?sort=mrr&after={cursor}" if cursor else None
    assert seen == [f"S{index:03d}" for index in range(120)]


def test_the_index_reads_a_page_in_a_fixed_number_of_queries(viewer, tenant_alpha, django_assert_max_num_queries):
    contact = Contact.objects.create(first_name="Ola", last_name="Nordmann", email="ola@example.com")
    for index in range(3):
        make(f"W{index}", company=Company.objects.create(name=f"W{index} AS"))
    viewer.get(URL)
    with CaptureQueriesContext(connection) as few:
        viewer.get(URL)
    for index in range(60):
        if index % 2:
            make(f"M{index}", company=Company.objects.create(name=f"M{index} AS"))
        else:
            make(f"M{index}", contact=contact)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = viewer.get(URL)
    assert len(response.context["page"].rows) == 50


def test_an_empty_index_explains_where_subscriptions_come_from(viewer):
    text = text_of(viewer.get(URL))
    assert "No subscriptions yet" in text
    assert "Nothing matches this view" in text_of(viewer.get(f"{URL}?q=nothing"))
    assert "Nothing is past due" in text_of(viewer.get(f"{URL}?view=past_due"))


def test_the_menu_lists_subscriptions_for_readers(viewer, tenant_alpha):
    assert '<a href="/billing/subscriptions/"' in viewer.get("/").content.decode()
