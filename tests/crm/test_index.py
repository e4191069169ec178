"""Index views: filters (custom properties included), sorting, default and saved views, bulk actions, CSV export."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from commerce_hub.accounts.models import AuditEntry, Role
from commerce_hub.saved_views.models import SavedView
from crm.models import Company, Contact, Deal, DealStageChange, Pipeline, PropertyDefinition
from tests.conftest import user_make


def names(response):
    return [getattr(r, "name", None) or r.full_name for r in response.context["page"].rows]


@pytest.fixture
def companies(admin_user):
    PropertyDefinition.objects.create(
        object_type="company",
        key="tier",
        label="Tier",
        type="choice",
        choices=[{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}],
    )
    PropertyDefinition.objects.create(object_type="company", key="employees", label="Employees", type="number")
    PropertyDefinition.objects.create(object_type="company", key="partner", label="Partner", type="boolean")
    other = user_make(Role.SALES, full_name="Olav Owner")
    now = timezone.now()
    rows = [
        ("Amstel BV", "NL", "lead", admin_user, {"tier": "gold", "employees": "120", "partner": True}, 5),
        ("Bergen AS", "NO", "customer", other, {"tier": "silver", "employees": "8"}, 40),
        ("Cruquius BV", "NL", "customer", None, {"employees": "45", "partner": False}, 2),
        ("Drammen AS", "NO", "lead", admin_user, {"tier": "gold"}, 1),
        ("Eindhoven BV", "NL", "opportunity", None, {}, 60),
    ]
    made = {}
    for name, country, stage, owner, props, days_old in rows:
        made[name] = Company.objects.create(
            name=name,
            country=country,
            lifecycle_stage=stage,
            owner=owner,
            properties=props,
            created_at=now - timedelta(days=days_old),
            updated_at=now - timedelta(hours=days_old),
        )
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["Amstel BV", "Bergen AS", "Cruquius BV", "Drammen AS", "Eindhoven BV"]),
        ("country=NO", ["Bergen AS", "Drammen AS"]),
        ("lifecycle_stage=customer&lifecycle_stage=opportunity", ["Bergen AS", "Cruquius BV", "Eindhoven BV"]),
        ("owner=none", ["Cruquius BV", "Eindhoven BV"]),
        ("q=bv&country=NL&lifecycle_stage=customer", ["Cruquius BV"]),
        ("p_tier=gold", ["Amstel BV", "Drammen AS"]),
        ("p_employees_min=10&p_employees_max=100", ["Cruquius BV"]),
        ("p_employees_min=40", ["Amstel BV", "Cruquius BV"]),
        ("p_partner=yes", ["Amstel BV"]),
        ("p_partner=no", ["Cruquius BV"]),
        ("name=amst", ["Amstel BV"]),
        ("view=unassigned", ["Cruquius BV", "Eindhoven BV"]),
        ("view=mine", ["Amstel BV", "Drammen AS"]),
        ("view=recent", ["Drammen AS", "Cruquius BV", "Amstel BV"]),  # newest first, 30 days
        ("sort=-name", ["Eindhoven BV", "Drammen AS", "Cruquius BV", "Bergen AS", "Amstel BV"]),
        ("sort=p_employees", ["Drammen AS", "Eindhoven BV", "Bergen AS", "Cruquius BV", "Amstel BV"]),
        # Ties (no value) keep a stable order by id, reversed with the sort.
        ("sort=-p_employees", ["Amstel BV", "Cruquius BV", "Bergen AS", "Eindhoven BV", "Drammen AS"]),
        ("sort=owner", ["Cruquius BV", "Eindhoven BV", "Amstel BV", "Drammen AS", "Bergen AS"]),
        ("sort=-updated_at", ["Drammen AS", "Cruquius BV", "Amstel BV", "Bergen AS", "Eindhoven BV"]),
        ("sort=no_such_column", ["Amstel BV", "Bergen AS", "Cruquius BV", "Drammen AS", "Eindhoven BV"]),
    ],
)
def test_company_filters_views_and_sorting_give_exact_rows(admin_client, companies, query, expected):
    response = admin_client.get(f"/crm/companies/?{query}")
    assert response.status_code == 200
    assert names(response) == expected


def test_keyset_pages_follow_the_chosen_sort(admin_client, admin_user):
    Company.objects.bulk_create(Company(name=f"Firma {i:03d}", city=f"City {i % 7}") for i in range(120))
    seen, url = [], "/crm/companies/?sort=-name"
    while url:
        response = admin_client.get(url)
        seen += names(response)
        cursor = response.context["page"].next_cursor
        url = f"/crm/companies/?sort=-name&after={cursor}" if cursor else None
    assert seen == [f"Firma {i:03d}" for i in reversed(range(120))]


def test_columns_can_be_chosen(admin_client, companies):
    response = admin_client.get("/crm/companies/?cols=name,p_tier,country")
    assert [c.key for c in response.context["index"].columns] == ["name", "p:tier", "country"]
    body = response.content.decode()
    assert '<th class="">' in body and ">Gold</td>" in body


def test_saved_views_personal_and_shared(admin_client, admin_user, companies):
    response = admin_client.post(
        "/crm/companies/views/save/",
        {"name": "Norwegian customers", "query": "country=NO&lifecycle_stage=customer&after=abc&view=3"},
    )
    view = SavedView.objects.get()
    assert (view.owner, view.query) == (admin_user, "country=NO&lifecycle_stage=customer")
    assert response["Location"] == f"/crm/companies/?view={view.pk}"
    assert names(admin_client.get(response["Location"])) == ["Bergen AS"]
    # Someone else does not see a personal view, but does see a shared one.
    from django.test import Client

    other = Client(HTTP_HOST="alpha.localhost")
    other.force_login(user_make(Role.SALES))
    assert names(other.get(f"/crm/companies/?view={view.pk}")) == [
        "Amstel BV",
        "Bergen AS",
        "Cruquius BV",
        "Drammen AS",
        "Eindhoven BV",
    ]
    admin_client.post("/crm/companies/views/save/", {"name": "Gold", "query": "p_tier=gold", "shared": "on"})
    shared = SavedView.objects.get(name="Gold")
    assert shared.owner is None
    assert names(other.get(f"/crm/companies/?view={shared.pk}")) == ["Amstel BV", "Drammen AS"]
    # Explicit parameters refine a saved view.
    assert names(other.get(f"/crm/companies/?view={shared.pk}&country=NO")) == ["Drammen AS"]
    # A duplicate name is refused.
    admin_client.post("/crm/companies/views/save/", {"name": "norwegian CUSTOMERS", "query": ""})
    assert SavedView.objects.filter(owner=admin_user).count() == 1


def test_bulk_assign_owner_and_lifecycle(admin_client, companies):
    new_owner = user_make(Role.SALES, full_name="Nina Nieuw")
    ids = [companies["Bergen AS"].pk, companies["Eindhoven BV"].pk]
    admin_client.post("/crm/companies/bulk/", {"action": "owner", "value": str(new_owner.pk), "ids": ids})
    assert set(Company.objects.filter(owner=new_owner).values_list("name", flat=True)) == {"Bergen AS", "Eindhoven BV"}
    admin_client.post("/crm/companies/bulk/", {"action": "lifecycle_stage", "value": "evangelist", "ids": ids})
    assert set(Company.objects.filter(lifecycle_stage="evangelist").values_list("name", flat=True)) == {
        "Bergen AS",
        "Eindhoven BV",
    }
    response = admin_client.post(
        "/crm/companies/bulk/", {"action": "lifecycle_stage", "value": "nonsense", "ids": ids}, follow=True
    )
    assert "“nonsense” is not a lifecycle stage." in response.content.decode()
    assert AuditEntry.objects.filter(action="company.bulk_updated").count() == 2


def test_bulk_delete_asks_first(admin_client, companies):
    ids = [companies["Amstel BV"].pk, companies["Bergen AS"].pk]
    confirm = admin_client.post("/crm/companies/bulk/", {"action": "delete", "ids": ids})
    assert confirm.status_code == 200 and "Delete 2 records?" in confirm.content.decode()
    assert Company.objects.count() == 5
    admin_client.post("/crm/companies/bulk/", {"action": "delete", "ids": ids, "confirm": "yes"})
    assert sorted(Company.objects.values_list("name", flat=True)) == ["Cruquius BV", "Drammen AS", "Eindhoven BV"]


def test_bulk_change_deal_stage_records_stage_changes(admin_client, admin_user):
    pipeline = Pipeline.objects.get(is_default=True)
    first, won = pipeline.stages.order_by("position")[0], pipeline.stages.get(kind="won")
    deals = [Deal.objects.create(name=f"Deal {i}", pipeline=pipeline, stage=first) for i in range(3)]
    admin_client.post("/crm/deals/bulk/", {"action": "stage", "value": str(won.pk), "ids": [d.pk for d in deals]})
    assert set(Deal.objects.values_list("stage_id", flat=True)) == {won.pk}
    assert DealStageChange.objects.filter(from_stage=first, to_stage=won).count() == 3


def test_read_only_cannot_bulk_edit_or_export(tenant_alpha, companies):
    from django.test import Client

    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.READ_ONLY))
    assert client.get("/crm/companies/").status_code == 200
    response = client.post(
        "/crm/companies/bulk/", {"action": "delete", "ids": [companies["Amstel BV"].pk], "confirm": "yes"}
    )
    assert response.status_code == 403
    assert client.get("/crm/companies/export.csv").status_code == 403
    assert Company.objects.count() == 5


def test_export_streams_the_filtered_rows(admin_client, admin_user, companies):
    response = admin_client.get("/crm/companies/export.csv?country=NL&sort=-name")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["Name"] for r in rows] == ["Eindhoven BV", "Cruquius BV", "Amstel BV"]
    assert rows[2]["Tier"] == "gold" and rows[2]["Employees"] == "120" and rows[2]["Partner"] == "yes"
    assert rows[2]["Owner"] == admin_user.email
    assert AuditEntry.objects.filter(action="crm.exported").count() == 1


def test_deal_index_money_and_date_filters(admin_client):
    pipeline = Pipeline.objects.get(is_default=True)
    stage = pipeline.stages.order_by("position").first()
    today = date.today()
    for name, amount, currency, close in [
        ("Small", "500", "EUR", today),
        ("Large", "25000", "EUR", None),
        ("Fjord", "90000", "NOK", today + timedelta(days=40)),
    ]:
        Deal.objects.create(
            name=name,
            amount=Decimal(amount),
            amount_currency=currency,
            pipeline=pipeline,
            stage=stage,
            close_date=close,
        )
    assert names(admin_client.get("/crm/deals/?amount_min=1000&sort=name")) == ["Fjord", "Large"]
    assert names(admin_client.get("/crm/deals/?amount_currency=NOK")) == ["Fjord"]
    assert names(admin_client.get(f"/crm/deals/?close_date_after={today + timedelta(days=1)}")) == ["Fjord"]
    assert names(admin_client.get("/crm/deals/?sort=amount")) == ["Small", "Large", "Fjord"]
    assert names(admin_client.get("/crm/deals/?sort=close_date")) == ["Large", "Small", "Fjord"]


def test_contact_index_filters_by_company_and_lifecycle(admin_client):
    acme = Company.objects.create(name="Acme BV")
    Contact.objects.create(
        first_name="Jan", last_name="Jansen", email="jan@acme.example", company=acme, lifecycle_stage="customer"
    )
    Contact.objects.create(first_name="Kari", last_name="Nord", email="kari@nord.example", lifecycle_stage="lead")
    assert [r.email for r in admin_client.get("/crm/contacts/?company=acme").context["page"].rows] == [
        "jan@acme.example"
    ]
    assert [r.email for r in admin_client.get("/crm/contacts/?lifecycle_stage=lead").context["page"].rows] == [
        "kari@nord.example"
    ]


def test_keyset_pages_with_many_ties_on_the_sort_column(admin_client):
    # 7 cities over 130 companies: page boundaries fall inside runs of equal values.
    Company.objects.bulk_create(Company(name=f"Ty {i:03d}", city=f"City {i % 7}") for i in range(130))
    expected = list(Company.objects.order_by("-city", "-id").values_list("name", flat=True))
    seen, url = [], "/crm/companies/?sort=-city"
    while url:
        response = admin_client.get(url)
        seen += names(response)
        cursor = response.context["page"].next_cursor
        url = f"/crm/companies/?sort=-city&after={cursor}" if cursor else None
    assert seen == expected and len(set(seen)) == 130
