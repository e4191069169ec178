"""Malformed and hostile input on the CRM pages: a clear answer, never a server error, never more rows."""

import csv
import io

from django.test import Client

from commerce_hub.accounts.models import Role
from commerce_hub.saved_views.models import SavedView
from crm.models import Company, Contact, Pipeline
from tests.conftest import user_make


def rows(response):
    return [r.pk for r in response.context["page"].rows]


def test_an_invalid_filter_shows_no_rows_and_says_why(admin_client):
    Contact.objects.create(first_name="Ada", email="ada@x.example", lifecycle_stage="customer")
    response = admin_client.get("/crm/contacts/?lifecycle_stage=customer&created_at_after=notadate")
    assert response.status_code == 200
    assert rows(response) == []
    assert "Enter a valid date." in response.content.decode()
    export = admin_client.get("/crm/contacts/export.csv?created_at_after=notadate")
    assert b"".join(export.streaming_content).decode("utf-8-sig").splitlines()[1:] == []


def test_unicode_digits_and_nul_bytes_are_refused_quietly(admin_client):
    Company.objects.create(name="Amstel")
    for path in [
        "/crm/companies/?view=²",
        "/crm/companies/?q=%00",
        "/crm/deals/board/?pipeline=²",
        "/crm/companies/?after=garbage",
        "/crm/companies/?sort=--name",
        "/crm/companies/?cols=<script>",
    ]:
        response = admin_client.get(path)
        assert response.status_code == 200, path
        assert "<script>" not in response.content.decode().split("<body", 1)[1].replace("<script src", "")
    response = admin_client.post("/crm/companies/bulk/", {"action": "owner", "value": "²", "ids": ["²", "٣"]})
    assert response.status_code == 302


def test_a_cursor_from_another_sort_starts_over(admin_client):
    Company.objects.bulk_create(Company(name=f"C{i:03d}") for i in range(60))
    first = admin_client.get("/crm/companies/?sort=name")
    cursor = first.context["page"].next_cursor
    response = admin_client.get(f"/crm/companies/?sort=-updated_at&after={cursor}")
    assert response.status_code == 200 and response.context["page"].is_first


def test_nan_and_infinity_are_not_numbers(admin_client):
    stage = Pipeline.objects.get(is_default=True).stages.first()
    for value in ("NaN", "sNaN", "Infinity"):
        response = admin_client.post(
            "/crm/deals/new/", {"name": "Odd", "amount": value, "stage": stage.pk, "amount_currency": "EUR"}
        )
        assert response.status_code == 400, value
        assert f"“{value}” is not a number." in response.content.decode()


def test_required_style_fields_cannot_be_blanked_in_bulk(admin_client):
    company = Company.objects.create(name="Amstel", lifecycle_stage="lead")
    response = admin_client.post(
        "/crm/companies/bulk/", {"action": "lifecycle_stage", "value": "", "ids": [company.pk]}, follow=True
    )
    assert "This field is required." in response.content.decode()
    company.refresh_from_db()
    assert company.lifecycle_stage == "lead"


def test_a_saved_view_too_long_to_store_is_refused(admin_client):
    response = admin_client.post(
        "/crm/companies/views/save/", {"name": "Huge", "query": "name=" + "x" * 2100}, follow=True
    )
    assert response.status_code == 200
    assert "This view has too many filters to save; remove some first." in response.content.decode()
    assert not SavedView.objects.exists()


def test_read_only_users_cannot_share_views(tenant_alpha):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.READ_ONLY))
    client.post("/crm/companies/views/save/", {"name": "Mine", "query": "country=NL", "shared": "on"})
    assert not SavedView.objects.filter(owner__isnull=True).exists()
    client.post("/crm/companies/views/save/", {"name": "Mine", "query": "country=NL"})
    assert SavedView.objects.filter(owner__isnull=False).count() == 1


def test_export_neutralises_spreadsheet_formulas(admin_client):
    Company.objects.create(name='=HYPERLINK("http://evil.example","x")', city="-12.50")
    text = b"".join(admin_client.get("/crm/companies/export.csv").streaming_content).decode("utf-8-sig")
    row = next(r for r in csv.DictReader(io.StringIO(text)))
    assert row["Name"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["City"] == "-12.50"  # a plain number stays a number
