"""Record pages: create, properties panel with inline edit, associations, delete with its confirmation."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from commerce_hub.accounts.models import Role
from crm.demo_data import default_pipeline_ensure
from crm.models import Company, Contact, Deal, DealStageChange, PropertyDefinition
from tests.conftest import user_make

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def pipeline(tenant_alpha):
    return default_pipeline_ensure()


@pytest.fixture
def stages(pipeline):
    return list(pipeline.stages.order_by("position", "id"))


@pytest.fixture
def company(tenant_alpha):
    return Company.objects.create(name="Van der Berg Logistiek B.V.", domain="vanderberg.nl", city="Amsterdam")


@pytest.fixture
def contact(company):
    return Contact.objects.create(first_name="Sanne", last_name="Visser", email="sanne@vanderberg.nl", company=company)


@pytest.fixture
def deal(company, stages):
    return Deal.objects.create(
        name="Warehouse scanners",
        pipeline=stages[0].pipeline,
        stage=stages[0],
        company=company,
        amount=Decimal("12500"),
    )


def client_for(role: str) -> Client:
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- create -------------------------------------------------------------------------------------------------------


def test_create_company_parses_values_and_redirects_to_its_page(admin_client):
    response = admin_client.post(
        "/crm/companies/new/",
        {"name": "Fjordkraft Energi AS", "domain": "https://Fjordkraft.NO/", "country": "NO", "currency": ""},
    )
    company = Company.objects.get(name="Fjordkraft Energi AS")
    assert response.status_code == 302
    assert response["Location"] == f"/crm/companies/{company.pk}/"
    assert (company.domain, company.country, company.currency, company.lifecycle_stage) == (
        "fjordkraft.no",
        "NO",
        "NOK",
        "lead",
    )


def test_create_contact_with_invalid_email_shows_the_error_next_to_the_field_and_saves_nothing(admin_client):
    response = admin_client.post("/crm/contacts/new/", {"first_name": "Ola", "email": "ola@@example"})
    assert response.status_code == 400
    error = re.search(r'<small class="field-error" id="id_email_error">(.*?)</small>', response.content.decode())
    assert error.group(1) == "“ola@@example” is not a valid email address."
    assert not Contact.objects.exists()


def test_create_deal_form_has_a_widget_per_field_type_and_custom_properties(admin_client, stages, company):
    PropertyDefinition.objects.create(
        object_type="deal",
        key="tier",
        label="Tier",
        type="choice",
        choices=[{"value": "gold", "label": "Gold"}, {"value": "silver", "label": "Silver"}],
    )
    PropertyDefinition.objects.create(object_type="deal", key="renewal", label="Renewal date", type="date")
    body = admin_client.get(f"/crm/deals/new/?company={company.pk}").content.decode()
    assert re.search(r'<input type="date" name="close_date"', body)
    assert re.search(r'<input type="date" name="p__renewal"', body)
    assert '<option value="gold">Gold</option>' in body
    stage_select = re.search(r'<select name="stage".*?</select>', body, re.S).group(0)
    assert re.findall(r"<option[^>]*>(.*?)</option>", stage_select) == [s.name for s in stages]
    assert f'<option value="{company.pk}" selected>Van der Berg Logistiek B.V.</option>' in body


def test_create_deal_with_custom_property_records_its_first_stage(admin_client, stages, company):
    PropertyDefinition.objects.create(object_type="deal", key="seats", label="Seats", type="number")
    response = admin_client.post(
        "/crm/deals/new/",
        {
            "name": "Fleet tracking",
            "stage": str(stages[1].pk),
            "amount": "4,500.50",
            "amount_currency": "EUR",
            "company": str(company.pk),
            "close_date": "2026-09-30",
            "p__seats": "25",
        },
    )
    deal = Deal.objects.get(name="Fleet tracking")
    assert response["Location"] == f"/crm/deals/{deal.pk}/"
    assert (deal.amount.amount, deal.stage, deal.company, deal.close_date) == (
        Decimal("4500.50"),
        stages[1],
        company,
        date(2026, 9, 30),
    )
    assert deal.properties == {"seats": "25"}
    assert list(deal.stage_changes.values_list("from_stage", "to_stage")) == [(None, stages[1].pk)]


# --- record page and inline edit ----------------------------------------------------------------------------------


def test_record_page_lists_every_field_formatted(admin_client, deal):
    PropertyDefinition.objects.create(object_type="deal", key="signed", label="Signed", type="boolean")
    deal.close_date = date(2026, 3, 31)
    deal.properties = {"signed": True}
    deal.save()
    body = text_of(admin_client.get(f"/crm/deals/{deal.pk}/"))
    row = r'<div class="prop" id="prop-[\w-]+"> <dt>(.*?)</dt> <dd> <span class="prop-value">(.*?)</span> (?:<a|</dd>)'
    rows = dict(re.findall(row, body))
    assert rows["Amount"] == "€12,500.00"
    assert rows["Close date"] == "31 March 2026"
    assert rows["Signed"] == "Yes"
    assert rows["Stage"] == '<span class="badge stage-open">Appointment scheduled</span>'
    assert rows["Company"] == f'<a href="/crm/companies/{deal.company_id}/">Van der Berg Logistiek B.V.</a>'
    assert rows["Owner"] == '<span class="muted">—</span>'
    assert {"Name", "Currency", "Created", "Last modified"} <= set(rows)


def test_inline_edit_of_a_builtin_field_saves_and_swaps_back_the_value(admin_client, company):
    form = admin_client.get(f"/crm/companies/{company.pk}/field/city/edit/", **HTMX)
    assert 'name="inline-city" value="Amsterdam"' in form.content.decode()
    response = admin_client.post(f"/crm/companies/{company.pk}/field/city/edit/", {"inline-city": "Utrecht"}, **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "recordChanged"
    assert re.search(r'<span class="prop-value">Utrecht</span>', response.content.decode())
    company.refresh_from_db()
    assert company.city == "Utrecht"


def test_inline_edit_with_an_invalid_email_shows_the_error_inline_and_saves_nothing(admin_client, contact):
    url = f"/crm/contacts/{contact.pk}/field/email/edit/"
    response = admin_client.post(url, {"inline-email": "not-an-email"}, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200  # htmx swaps only 2xx; the form comes back with its message
    error = re.search(r'<small class="field-error" id="id_inline-email_error" role="alert">(.*?)</small>', body)
    assert error.group(1) == "“not-an-email” is not a valid email address."
    assert 'aria-invalid="true"' in body
    contact.refresh_from_db()
    assert contact.email == "sanne@vanderberg.nl"


def test_inline_edit_of_an_email_another_contact_uses_is_refused(admin_client, contact):
    Contact.objects.create(first_name="Jan", email="jan@example.com")
    response = admin_client.post(
        f"/crm/contacts/{contact.pk}/field/email/edit/", {"inline-email": "JAN@example.com"}, **HTMX
    )
    assert "Another contact already uses this email." in response.content.decode()
    contact.refresh_from_db()
    assert contact.email == "sanne@vanderberg.nl"


def test_inline_edit_of_custom_properties(admin_client, company):
    PropertyDefinition.objects.create(
        object_type="company",
        key="tier",
        label="Tier",
        type="choice",
        choices=[{"value": "gold", "label": "Gold"}],
    )
    PropertyDefinition.objects.create(object_type="company", key="employees", label="Employees", type="number")
    url = f"/crm/companies/{company.pk}/field/p:tier/edit/"
    response = admin_client.post(url, {"inline-p__tier": "gold"}, **HTMX)
    assert re.search(r'<span class="prop-value">Gold</span>', response.content.decode())

    bad = admin_client.post(
        f"/crm/companies/{company.pk}/field/p:employees/edit/", {"inline-p__employees": "many"}, **HTMX
    )
    assert "“many” is not a number." in bad.content.decode()
    company.refresh_from_db()
    assert company.properties == {"tier": "gold"}

    good = admin_client.post(
        f"/crm/companies/{company.pk}/field/p:employees/edit/", {"inline-p__employees": "1250"}, **HTMX
    )
    assert re.search(r'<span class="prop-value">1,250</span>', good.content.decode())
    company.refresh_from_db()
    assert company.properties == {"tier": "gold", "employees": "1250"}


def test_stage_change_through_inline_edit_records_from_and_to(admin_client, admin_user, deal, stages):
    response = admin_client.post(f"/crm/deals/{deal.pk}/field/stage/edit/", {"inline-stage": str(stages[2].pk)}, **HTMX)
    assert response["HX-Trigger"] == "recordChanged, timelineChanged"
    change = DealStageChange.objects.get(deal=deal)
    assert (change.from_stage, change.to_stage, change.changed_by) == (stages[0], stages[2], admin_user)
    timeline = text_of(admin_client.get(f"/crm/deals/{deal.pk}/timeline/", **HTMX))
    assert "Stage changed from Appointment scheduled to Presentation scheduled" in timeline


def test_stage_select_offers_only_the_deals_pipeline(admin_client, deal, stages):
    from crm.models import Pipeline, Stage

    other = Pipeline.objects.create(name="Renewals")
    foreign = Stage.objects.create(pipeline=other, name="Renewal due")
    body = admin_client.get(f"/crm/deals/{deal.pk}/field/stage/edit/", **HTMX).content.decode()
    assert "Renewal due" not in body
    response = admin_client.post(f"/crm/deals/{deal.pk}/field/stage/edit/", {"inline-stage": str(foreign.pk)}, **HTMX)
    assert "is not a stage of this pipeline." in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage == stages[0]


def test_cancel_restores_the_display_and_edit_works_without_javascript(admin_client, company):
    cancel = admin_client.get(f"/crm/companies/{company.pk}/field/city/", **HTMX)
    assert re.search(r'<span class="prop-value">Amsterdam</span>', cancel.content.decode())

    page = admin_client.get(f"/crm/companies/{company.pk}/field/city/edit/")
    assert "<h1>Edit City</h1>" in page.content.decode()
    response = admin_client.post(f"/crm/companies/{company.pk}/field/city/edit/", {"inline-city": "Delft"})
    assert response["Location"] == f"/crm/companies/{company.pk}/"
    bad = admin_client.post(f"/crm/companies/{company.pk}/field/domain/edit/", {"inline-domain": "not a domain"})
    assert bad.status_code == 400
    company.refresh_from_db()
    assert (company.city, company.domain) == ("Delft", "vanderberg.nl")


def test_unknown_and_read_only_fields_have_no_edit_form(admin_client, company):
    assert admin_client.get(f"/crm/companies/{company.pk}/field/nope/edit/", **HTMX).status_code == 404
    assert admin_client.get(f"/crm/companies/{company.pk}/field/created_at/edit/", **HTMX).status_code == 404


def test_record_page_queries_do_not_grow_with_associations(admin_client, company, stages):
    def page_queries():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(f"/crm/companies/{company.pk}/").status_code == 200
        return len(ctx.captured_queries)

    def add(n):
        for i in range(n):
            Contact.objects.create(first_name=f"P{i}", email=f"p{i}-{n}@example.com", company=company)
            Deal.objects.create(name=f"D{i}", pipeline=stages[0].pipeline, stage=stages[i % 3], company=company)

    add(1)
    page_queries()  # warms the per-tenant caches (lifecycle labels, organization profile)
    few = page_queries()
    add(8)
    assert page_queries() == few


# --- associations -------------------------------------------------------------------------------------------------


def test_company_page_lists_its_contacts_and_deals_and_adds_an_existing_contact(admin_client, company, contact, deal):
    elsewhere = Company.objects.create(name="Dijkstra Bouwmaterialen")
    mover = Contact.objects.create(first_name="Daan", last_name="Smit", email="daan@dijkstra.nl", company=elsewhere)
    body = text_of(admin_client.get(f"/crm/companies/{company.pk}/"))
    assert f'<a href="/crm/contacts/{contact.pk}/">Sanne Visser</a>' in body
    assert f'<a href="/crm/deals/{deal.pk}/">Warehouse scanners</a>' in body

    results = text_of(admin_client.get(f"/crm/companies/{company.pk}/contacts/search/?q=smit", **HTMX))
    assert "Daan Smit" in results and "now at Dijkstra Bouwmaterialen" in results
    assert "Sanne" not in text_of(admin_client.get(f"/crm/companies/{company.pk}/contacts/search/?q=sanne", **HTMX))

    response = admin_client.post(f"/crm/companies/{company.pk}/contacts/add/", {"contact": mover.pk})
    assert response["Location"] == f"/crm/companies/{company.pk}/"
    mover.refresh_from_db()
    assert mover.company == company

    admin_client.post(f"/crm/companies/{company.pk}/contacts/{mover.pk}/remove/", **HTMX)
    mover.refresh_from_db()
    assert mover.company is None


def test_contact_page_shows_its_company_and_deals(admin_client, contact, deal):
    deal.contacts.add(contact)
    body = text_of(admin_client.get(f"/crm/contacts/{contact.pk}/"))
    assert f'<a href="/crm/companies/{contact.company_id}/">Van der Berg Logistiek B.V.</a>' in body
    assert f'<a href="/crm/deals/{deal.pk}/">Warehouse scanners</a>' in body
    assert f'href="/crm/contacts/{contact.pk}/field/company/edit/"' in body  # change the company


def test_deal_contacts_are_added_through_search_and_removed(admin_client, deal, contact):
    results = text_of(admin_client.get(f"/crm/deals/{deal.pk}/contacts/search/?q=sanne vis", **HTMX))
    assert "Sanne Visser" in results
    admin_client.post(f"/crm/deals/{deal.pk}/contacts/add/", {"contact": contact.pk}, **HTMX)
    admin_client.post(f"/crm/deals/{deal.pk}/contacts/add/", {"contact": contact.pk}, **HTMX)  # twice: no error
    assert list(deal.contacts.all()) == [contact]
    assert "No other contacts match" in text_of(
        admin_client.get(f"/crm/deals/{deal.pk}/contacts/search/?q=sanne", **HTMX)
    )
    response = admin_client.post(f"/crm/deals/{deal.pk}/contacts/{contact.pk}/remove/")
    assert response["Location"] == f"/crm/deals/{deal.pk}/"
    assert not deal.contacts.exists()
    assert Contact.objects.filter(pk=contact.pk).exists()


# --- delete -------------------------------------------------------------------------------------------------------


def test_deleting_a_company_says_what_it_unlinks_and_unlinks_it(admin_client, company, stages):
    contacts = [
        Contact.objects.create(first_name=f"P{i}", email=f"p{i}@example.com", company=company) for i in range(3)
    ]
    deals = [
        Deal.objects.create(name=f"D{i}", pipeline=stages[0].pipeline, stage=stages[0], company=company)
        for i in range(2)
    ]
    body = text_of(admin_client.get(f"/crm/companies/{company.pk}/delete/"))
    assert "Delete the company “Van der Berg Logistiek B.V.”?" in body
    assert "<li>3 contacts and 2 deals will no longer be linked to this company.</li>" in body

    response = admin_client.post(f"/crm/companies/{company.pk}/delete/")
    assert response["Location"] == "/crm/companies/"
    assert not Company.objects.filter(pk=company.pk).exists()
    assert [c.company_id for c in Contact.objects.filter(pk__in=[c.pk for c in contacts])] == [None, None, None]
    assert [d.company_id for d in Deal.objects.filter(pk__in=[d.pk for d in deals])] == [None, None]


def test_deleting_a_contact_takes_it_off_its_deals(admin_client, contact, deal, stages):
    other = Deal.objects.create(name="Second", pipeline=stages[0].pipeline, stage=stages[0])
    deal.contacts.add(contact)
    other.contacts.add(contact)
    body = text_of(admin_client.get(f"/crm/contacts/{contact.pk}/delete/"))
    assert "<li>2 deals will no longer list this contact.</li>" in body
    admin_client.post(f"/crm/contacts/{contact.pk}/delete/")
    assert not deal.contacts.exists() and not other.contacts.exists()
    assert Deal.objects.count() == 2


def test_deleting_a_company_without_links_says_so(admin_client, company):
    body = text_of(admin_client.get(f"/crm/companies/{company.pk}/delete/"))
    assert "<li>No contacts or deals are linked to this company.</li>" in body


# --- permissions and unknown ids ----------------------------------------------------------------------------------


def _write_requests(company, contact, deal):
    return [
        ("get", "/crm/companies/new/", {}),
        ("post", "/crm/contacts/new/", {"first_name": "X", "email": "x@example.com"}),
        ("get", f"/crm/companies/{company.pk}/field/city/edit/", {}),
        ("post", f"/crm/companies/{company.pk}/field/city/edit/", {"inline-city": "Oslo"}),
        ("post", f"/crm/companies/{company.pk}/contacts/add/", {"contact": contact.pk}),
        ("get", f"/crm/deals/{deal.pk}/contacts/search/", {"q": "s"}),
        ("post", f"/crm/deals/{deal.pk}/contacts/add/", {"contact": contact.pk}),
        ("post", f"/crm/deals/{deal.pk}/notes/", {"note-body": "hi"}),
        ("post", f"/crm/deals/{deal.pk}/tasks/", {"task-title": "Call"}),
        ("get", f"/crm/companies/{company.pk}/delete/", {}),
        ("post", f"/crm/companies/{company.pk}/delete/", {}),
    ]


def test_read_only_users_see_records_but_every_write_is_403(tenant_alpha, company, contact, deal):
    client = client_for(Role.READ_ONLY)
    page = client.get(f"/crm/deals/{deal.pk}/")
    assert page.status_code == 200
    assert "prop-edit" not in page.content.decode() and "Delete" not in page.content.decode()
    for method, url, data in _write_requests(company, contact, deal):
        assert getattr(client, method)(url, data).status_code == 403, url
    company.refresh_from_db()
    assert company.city == "Amsterdam" and not deal.contacts.exists() and not deal.notes.exists()


def test_sales_edits_but_cannot_delete(tenant_alpha, company):
    client = client_for(Role.SALES)
    assert client.post(f"/crm/companies/{company.pk}/field/city/edit/", {"inline-city": "Oslo"}).status_code == 302
    assert client.get(f"/crm/companies/{company.pk}/delete/").status_code == 403
    assert client.post(f"/crm/companies/{company.pk}/delete/").status_code == 403
    assert Company.objects.filter(pk=company.pk).exists()


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/crm/companies/999999/"),
        ("get", "/crm/contacts/999999/"),
        ("get", "/crm/deals/999999/"),
        ("get", "/crm/deals/999999/field/name/edit/"),
        ("get", "/crm/contacts/999999/delete/"),
        ("get", "/crm/companies/999999/timeline/"),
        ("post", "/crm/deals/999999/contacts/add/"),
        ("post", "/crm/notes/999999/delete/"),
        ("post", "/crm/tasks/999999/complete/"),
    ],
)
def test_unknown_ids_are_404(admin_client, method, url):
    assert getattr(admin_client, method)(url).status_code == 404


def test_removing_a_contact_that_is_not_on_the_deal_is_404(admin_client, deal, contact):
    assert admin_client.post(f"/crm/deals/{deal.pk}/contacts/{contact.pk}/remove/").status_code == 404
