"""The Exports page, e-invoice downloads from the record page, and Settings → E-invoicing."""

import io
import zipfile
from datetime import date

import pytest
from django.db import connection

from commerce_hub.accounts import backends
from commerce_hub.accounts.roles import Role
from integrations.models import ExportSettings
from tests.conftest import user_make
from tests.integrations.exports.data import credit_whole, finalize, nl_buyer, nl_invoice
from tests.integrations.exports.peppol import rule_errors, value, xsd_errors

pytestmark = pytest.mark.django_db
URL = "/integrations/exports/"


def _download(response) -> bytes:
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def test_exports_page_shows_the_period_form_and_the_menu_links_to_it(admin_client):
    response = admin_client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="start"' in page and 'name="end"' in page and 'value="all"' in page and 'value="ubl"' in page
    assert f'href="{URL}"' in admin_client.get("/billing/invoices/").content.decode()


def test_invoice_csv_download_streams_with_no_store(admin_client):
    invoice = nl_invoice()
    response = admin_client.get(URL, {"start": "2026-03-01", "end": "2026-03-31", "what": "invoices"})
    assert response.streaming
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="invoices-2026-03-01-2026-03-31.csv"'
    text = _download(response).decode("utf-8-sig")
    assert text.splitlines()[1].startswith(f"{invoice.number},2026-03-02,")


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"start": "2026-02-30", "end": "2026-03-31"}, "start", "Enter a valid date."),
        ({"start": "2026-03-31", "end": "2026-03-01"}, "end", "The end date is before the start date."),
        ({"start": "2020-01-01", "end": "2026-03-01"}, "end", "Export at most three years at a time."),
        ({"start": "", "end": "x" * 5000}, "start", "This field is required."),
        (
            {"start": "2026-03-01", "end": "2026-03-31", "what": "everything"},
            "what",
            "Select a valid choice. everything is not one of the available choices.",
        ),
    ],
)
def test_bad_period_gives_a_form_error_not_a_server_error(admin_client, params, field, message):
    response = admin_client.get(URL, {"what": "invoices", **params})
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    assert message in response.content.decode()


def test_payments_need_their_own_permission(client_alpha, monkeypatch):
    real = backends.permissions_for_role
    monkeypatch.setattr(backends, "permissions_for_role", lambda role: real(role) - {"accounts.view_payments"})
    client_alpha.force_login(user_make(Role.READ_ONLY))
    period = {"start": "2026-03-01", "end": "2026-03-31"}
    assert client_alpha.get(URL, {**period, "what": "invoices"}).status_code == 200
    for what in ("payments", "all"):
        response = client_alpha.get(URL, {**period, "what": what})
        assert response.status_code == 400
        assert response.context["form"].errors["what"]
    assert 'value="payments"' not in client_alpha.get(URL).content.decode()


def test_without_either_permission_the_page_is_forbidden(client_alpha, monkeypatch):
    monkeypatch.setattr(backends, "permissions_for_role", lambda role: frozenset())
    client_alpha.force_login(user_make(Role.READ_ONLY))
    assert client_alpha.get(URL).status_code == 403
    assert client_alpha.get(f"{URL}invoices/1/ubl/").status_code == 403


def test_signed_out_visitors_go_to_login(client_alpha):
    response = client_alpha.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_invoice_page_offers_the_e_invoice_and_it_downloads_valid(admin_client):
    invoice = nl_invoice()
    note = credit_whole(invoice)
    page = admin_client.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert f'href="{URL}invoices/{invoice.pk}/ubl/"' in page
    assert f'href="{URL}credit-notes/{note.pk}/ubl/"' in page
    response = admin_client.get(f"{URL}invoices/{invoice.pk}/ubl/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Disposition"] == f'attachment; filename="invoice-{invoice.number}.xml"'
    assert xsd_errors(response.content) == [] and rule_errors(response.content) == []
    note_xml = admin_client.get(f"{URL}credit-notes/{note.pk}/ubl/").content
    assert value(note_xml, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == invoice.number


def test_an_e_invoice_that_cannot_be_made_says_why_on_the_invoice_page(admin_client):
    company, contact = nl_buyer(vat_number="", registration_number="", email="")
    invoice = finalize([("Consulting", "1", "10.00", "BTW 21%")], company=company, contact=contact)
    response = admin_client.get(f"{URL}invoices/{invoice.pk}/ubl/", follow=True)
    assert response.redirect_chain[-1][0] == f"/billing/invoices/{invoice.pk}/"
    assert "The buyer has no Peppol endpoint" in response.content.decode()


def test_another_tenants_invoice_and_a_draft_are_not_found(admin_client, tenant_bravo):
    from tests.billing.invoicing import draft_make

    draft = draft_make()
    assert admin_client.get(f"{URL}invoices/{draft.pk}/ubl/").status_code == 404
    connection.set_tenant(tenant_bravo)
    company, contact = nl_buyer(name="Bravo Klant B.V.")
    ids = [finalize([("x", "1", "1.00", "BTW 21%")], company=company, contact=contact).pk for _ in range(3)]
    connection.set_schema_to_public()
    assert admin_client.get(f"{URL}invoices/{ids[-1]}/ubl/").status_code == 404
    assert admin_client.get(f"{URL}credit-notes/{ids[-1]}/ubl/").status_code == 404


def test_bulk_e_invoices_zip_has_every_document_and_lists_the_ones_that_cannot_be_made(admin_client):
    invoice = nl_invoice()
    note = credit_whole(invoice)
    company, contact = nl_buyer(name="Zonder Nummer B.V.", vat_number="", registration_number="", email="")
    bad = finalize([("x", "1", "1.00", "BTW 21%")], company=company, contact=contact, issue_date=date(2026, 3, 5))
    today = note.issue_date.isoformat()
    response = admin_client.get(URL, {"start": "2026-03-01", "end": today, "what": "ubl"})
    assert response["Cache-Control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(_download(response)))
    assert archive.namelist() == [f"invoice-{invoice.number}.xml", f"credit-note-{note.number}.xml", "problems.txt"]
    assert archive.read("problems.txt").decode().startswith(f"{bad.number}: The buyer has no Peppol endpoint")
    for name in archive.namelist()[:2]:
        assert xsd_errors(archive.read(name)) == []


def test_settings_page_saves_and_refuses_half_an_endpoint(admin_client):
    response = admin_client.post(
        "/integrations/exports/settings/", {"seller_endpoint_scheme": "0106", "buyer_endpoint_source": "vat"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["seller_endpoint_id"] == ["Give both the scheme and the id, or neither."]
    response = admin_client.post(
        "/integrations/exports/settings/",
        {
            "embed_ubl_in_pdf": "on",
            "seller_endpoint_scheme": "0106",
            "seller_endpoint_id": " 12345678 ",
            "buyer_endpoint_source": "vat",
        },
    )
    assert response.status_code == 302
    settings = ExportSettings.objects.get(pk=1)
    assert (settings.embed_ubl_in_pdf, settings.seller_endpoint_id, settings.buyer_endpoint_source) == (
        True,
        "12345678",
        "vat",
    )


def test_settings_page_is_for_admins(client_alpha):
    client_alpha.force_login(user_make(Role.FINANCE))
    assert client_alpha.get("/integrations/exports/settings/").status_code == 403
