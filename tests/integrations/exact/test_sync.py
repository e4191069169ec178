"""Records and invoices to Exact: lifecycle filtering, the field mapping, VAT codes from our tax rates, and never a
duplicate, even when a stage change is delivered three times or Exact's answer is lost."""

from decimal import Decimal

import pytest
from django.test import override_settings
from djmoney.money import Money

from billing.models import Invoice, LineItem, Product
from commerce_hub.events.models import Delivery, OutboxEvent
from commerce_hub.events.registry import handler_by_name
from crm.models import Contact, PropertyDefinition
from crm.services.records import deal_move_stage
from integrations.exact.client import ExactClient, ExactUnavailable
from integrations.exact.mapping import exact_values, our_values
from integrations.exact.services import sync
from integrations.models import ExactLink, SyncLog
from tests.billing.invoicing import seller_ready
from tests.integrations.exact.conftest import company_make, deal_make, settings_save, won_stage

STAGE_HANDLER = "integrations.exact.deal_stage_changed"


def test_only_companies_at_or_past_the_chosen_stage_sync(exact):
    settings_save(company_scope="stage", company_min_stage="opportunity", contact_scope="none")
    lead = company_make("Lead BV", lifecycle_stage="lead")
    customer = company_make("Customer BV", lifecycle_stage="customer")
    opportunity = company_make("Opportunity BV", lifecycle_stage="opportunity")
    for company in (lead, customer, opportunity):
        sync.company_push(company_id=company.pk)
    assert sorted(r["Name"] for r in exact.rows("crm/Accounts")) == ["Customer BV", "Opportunity BV"]
    contact = Contact.objects.create(first_name="Kari", email="kari@example.com", lifecycle_stage="customer")
    assert sync.contact_push(contact_id=contact.pk) is None  # contacts: none


def test_scope_none_and_all(exact):
    settings_save(company_scope="none")
    assert sync.company_push(company_id=company_make().pk) is None
    settings_save(company_scope="all")
    assert sync.company_push(company_id=company_make("Other").pk)


def test_field_mapping_round_trips_through_exact(exact):
    PropertyDefinition.objects.create(object_type="company", key="tier", label="Tier", type="text")
    field_map = [{"object": "company", "property": "properties.tier", "exact": "Remarks"}]
    settings_save(field_map=field_map, account_type="P")
    company = company_make(
        "Zuiderzee Handel B.V.",
        registration_number="12345678",
        postal_code="1015 AA",
        phone="+31 20 123 4567",
        domain="zuiderzee.example",
        address_line1="Keizersgracht 1",
        properties={"tier": "gold"},
    )
    exact_id = sync.company_push(company_id=company.pk)
    row = exact.state.tables["crm/Accounts"][exact_id]
    assert (row["Name"], row["ChamberOfCommerce"], row["Remarks"], row["Status"], row["Code"]) == (
        "Zuiderzee Handel B.V.",
        "12345678",
        "gold",
        "P",
        f"CH{company.pk}",
    )
    back = our_values(row, "company", field_map)
    assert back == {
        "name": "Zuiderzee Handel B.V.",
        "vat_number": "NL000099998B57",
        "registration_number": "12345678",
        "address_line1": "Keizersgracht 1",
        "postal_code": "1015 AA",
        "city": "Amsterdam",
        "country": "NL",
        "phone": "+31 20 123 4567",
        "domain": "zuiderzee.example",
        "properties": {"tier": "gold"},
    }
    assert exact_values(company, "company", field_map) == {
        k: row[k] for k in exact_values(company, "company", field_map)
    }


def test_an_update_changes_the_same_account(exact):
    company = company_make("Old name")
    first = sync.company_push(company_id=company.pk)
    company.name = "New name"
    company.save()
    assert sync.company_push(company_id=company.pk) == first
    assert [r["Name"] for r in exact.rows("crm/Accounts")] == ["New name"]


def test_a_contact_is_created_under_its_companys_account(exact):
    company = company_make()
    contact = Contact.objects.create(first_name="Kari", last_name="Nordmann", email="kari@x.example", company=company)
    contact_id = sync.contact_push(contact_id=contact.pk)
    row = exact.state.tables["crm/Contacts"][contact_id]
    assert (row["FirstName"], row["LastName"], row["Email"]) == ("Kari", "Nordmann", "kari@x.example")
    assert row["Account"] == ExactLink.objects.get(kind="company", object_id=company.pk).exact_id


def test_an_account_created_before_its_answer_was_lost_is_found_not_duplicated(exact, settings):
    settings.EXACT_TIMEOUT = 0.5
    company = company_make()
    exact.fault("POST", "crm/Accounts", "timeout", seconds=1.5)
    with pytest.raises(ExactUnavailable):
        sync.company_push(company_id=company.pk)
    assert len(exact.rows("crm/Accounts")) == 1  # Exact did create it
    sync.company_push(company_id=company.pk)
    assert len(exact.rows("crm/Accounts")) == 1
    assert SyncLog.objects.filter(kind="company", object_id=company.pk).values_list("status", flat=True)[::1] == [
        "ok",
        "failed",
    ]


def _configure_invoices(mode="concept"):
    seller_ready()
    deal = deal_make(
        lines=(("Consulting", "2", "100.00", "BTW 21%"), ("Books", "1", "50.00", "BTW 9%")),
    )
    settings_save(
        invoices_enabled=True,
        invoice_mode=mode,
        invoice_stages=[{"pipeline": deal.pipeline_id, "stage": won_stage(deal.pipeline).pk}],
    )
    return deal


def _stage_change_delivery(deal):
    deal_move_stage(deal=deal, stage_id=won_stage(deal.pipeline).pk, actor=None)
    event = OutboxEvent.objects.filter(name="deal.stage_changed", payload__id=deal.pk).latest("id")
    return event, Delivery.objects.get(event=event, handler=STAGE_HANDLER)


def test_a_stage_change_delivered_three_times_creates_exactly_one_exact_invoice(exact):
    deal = _configure_invoices()
    event, delivery = _stage_change_delivery(deal)
    handler = handler_by_name(STAGE_HANDLER)
    for _ in range(3):
        handler(event, delivery_id=delivery.pk)
    invoices = exact.rows("salesinvoice/SalesInvoices")
    ours = Invoice.objects.get(deal=deal)
    assert len(invoices) == 1
    assert invoices[0]["YourRef"] == ours.number
    assert invoices[0]["OrderedBy"] == ExactLink.objects.get(kind="company", object_id=deal.company_id).exact_id
    lines = sorted(exact.rows("salesinvoice/SalesInvoiceLines"), key=lambda r: r["LineNumber"])
    assert [(r["Description"], r["VATCode"], r["AmountFC"]) for r in lines] == [
        ("Consulting", "2", 200.0),
        ("Books", "1", 50.0),
    ]
    assert Decimal(str(invoices[0]["AmountFC"])) == ours.total == Decimal("296.50")
    assert len(exact.calls_to("POST", "salesinvoice/SalesInvoices")) == 1


def test_a_lost_answer_to_the_invoice_create_does_not_duplicate_it(exact, settings):
    settings.EXACT_TIMEOUT = 0.5
    deal = _configure_invoices()
    event, delivery = _stage_change_delivery(deal)
    exact.fault("POST", "salesinvoice/SalesInvoices", "timeout", seconds=1.5)
    handler = handler_by_name(STAGE_HANDLER)
    with pytest.raises(ExactUnavailable):
        handler(event, delivery_id=delivery.pk)
    handler(event, delivery_id=delivery.pk)
    handler(event, delivery_id=delivery.pk)
    assert len(exact.rows("salesinvoice/SalesInvoices")) == 1
    assert Invoice.objects.filter(deal=deal).count() == 1


def test_processed_mode_books_the_invoice_once(exact):
    deal = _configure_invoices(mode="processed")
    sync.deal_invoice_push(deal_id=deal.pk)
    sync.deal_invoice_push(deal_id=deal.pk)
    assert [r["Status"] for r in exact.rows("salesinvoice/SalesInvoices")] == [50]
    assert len(exact.rows("cashflow/Receivables")) == 1


def test_a_stage_that_is_not_configured_creates_nothing(exact):
    deal = _configure_invoices()
    stage = deal.pipeline.stages.exclude(kind="won").order_by("-position").first()
    deal_move_stage(deal=deal, stage_id=stage.pk, actor=None)
    event = OutboxEvent.objects.filter(name="deal.stage_changed", payload__id=deal.pk).latest("id")
    handler_by_name(STAGE_HANDLER)(event, delivery_id=0)
    assert exact.rows("salesinvoice/SalesInvoices") == []
    assert not Invoice.objects.filter(deal=deal).exists()


def test_a_deal_without_lines_is_logged_as_failed(exact):
    deal = _configure_invoices()
    LineItem.objects.filter(deal=deal).delete()
    with pytest.raises(Exception):  # noqa: B017 - finalizing refuses, whatever its wording
        sync.deal_invoice_push(deal_id=deal.pk)
    assert SyncLog.objects.get(kind="deal", object_id=deal.pk).status == "failed"
    assert exact.rows("salesinvoice/SalesInvoices") == []


def test_products_become_items_once(exact):
    product = Product.objects.create(name="Standing desk", sku="DESK-1")
    first = sync.product_push(product_id=product.pk)
    assert sync.product_push(product_id=product.pk) == first
    assert [(r["Code"], r["Description"]) for r in exact.rows("logistics/Items")] == [("DESK-1", "Standing desk")]


def test_every_page_of_a_collection_is_read(exact):
    for n in range(130):
        exact.insert("crm/Accounts", {"Name": f"Account {n}", "Code": str(n)})
    rows = ExactClient().collection("crm/Accounts")
    assert len(rows) == 130
    assert len(exact.calls_to("GET", "crm/Accounts")) == 3  # 60 + 60 + 10, following __next


@override_settings(EXACT_BASE_URL="")
def test_the_base_url_follows_the_country():
    from integrations.exact.http import base_url

    assert base_url("co.uk") == "https://start.exactonline.co.uk"
    assert base_url("nl") == "https://start.exactonline.nl"


def test_with_opportunities_a_deal_is_an_opportunity_that_follows_its_stage(exact):
    settings_save(opportunities_enabled=True)
    deal = deal_make()
    deal.amount = Money("1500.00", "EUR")
    deal.save()
    handler_by_name("integrations.exact.deal_created")(_FakeEvent(deal.pk), delivery_id=0)
    [row] = exact.rows("crm/Opportunities")
    stage = exact.rows("crm/OpportunityStages")[0]
    assert (row["Name"], row["AmountFC"], row["Currency"], row["OpportunityStatus"], row["OpportunityStage"]) == (
        "Big deal",
        1500.0,
        "EUR",
        1,
        stage["ID"],
    )
    event, delivery = _stage_change_delivery(deal)
    handler_by_name(STAGE_HANDLER)(event, delivery_id=delivery.pk)
    [row] = exact.rows("crm/Opportunities")
    assert (row["OpportunityStatus"], row["Probability"]) == (3, 1.0)
    assert exact.rows("salesinvoice/SalesInvoices") == []
    assert not Invoice.objects.filter(deal=deal).exists()


class _FakeEvent:
    def __init__(self, deal_id):
        self.payload = {"id": deal_id}
