"""The setup wizard: refuses invalid combinations with a reason next to the field, saves nothing half, and reads
every setting back in plain words."""

import pytest
from django.core.exceptions import ValidationError

from crm.models import Pipeline, PropertyDefinition
from integrations.exact.services.setup import SetupValues, exact_settings_save, setup_errors
from integrations.models import ExactSettings


def test_invoices_and_opportunities_exclude_each_other(tenant_alpha):
    with pytest.raises(ValidationError) as refused:
        exact_settings_save(values=SetupValues(invoices_enabled=True, opportunities_enabled=True))
    assert (
        "Choose sales invoices or sales opportunities, not both"
        in refused.value.message_dict["opportunities_enabled"][0]
    )
    assert not ExactSettings.objects.exists()


def test_the_wizard_page_explains_the_refusal_and_saves_nothing(admin_client):
    response = admin_client.post(
        "/integrations/exact/setup/",
        {
            "invoices_enabled": "on",
            "opportunities_enabled": "on",
            "company_scope": "all",
            "contact_scope": "all",
            "account_type": "C",
            "reference_field": "YourRef",
            "invoice_mode": "concept",
            "action": "save",
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was saved." in page
    assert "a won deal would reach Exact twice" in page
    assert not ExactSettings.objects.exists()


def test_a_lifecycle_scope_needs_a_stage_of_the_tenant(tenant_alpha):
    errors = setup_errors(SetupValues(company_scope="stage", company_min_stage="no-such-stage", contact_scope="stage"))
    assert errors["company_min_stage"] == ["Choose a lifecycle stage."]
    assert errors["contact_min_stage"] == ["Choose a lifecycle stage."]
    assert setup_errors(SetupValues(company_scope="stage", company_min_stage="customer")) == {}


def test_invoice_stages_must_belong_to_their_pipeline_once_per_pipeline(tenant_alpha):
    pipeline = Pipeline.objects.get(is_default=True)
    other = Pipeline.objects.create(name="Renewals", position=2)
    other_stage = other.stages.create(name="Signed", position=0)
    won = pipeline.stages.get(kind="won")
    errors = setup_errors(
        SetupValues(
            invoices_enabled=True,
            invoice_stages=[
                {"pipeline": pipeline.pk, "stage": other_stage.pk},
                {"pipeline": pipeline.pk, "stage": won.pk},
            ],
        )
    )
    assert errors["invoice_stages"] == [
        "That stage is not in the chosen pipeline.",
        "The pipeline “Sales pipeline” has two rows: keep one stage per pipeline.",
    ]
    assert setup_errors(SetupValues(invoice_stages=[{"pipeline": pipeline.pk, "stage": won.pk}])) == {
        "invoice_stages": ["Turn on sales invoices to create invoices from deal stages."]
    }


def test_field_mapping_accepts_custom_properties_and_refuses_unknown_fields(tenant_alpha):
    PropertyDefinition.objects.create(object_type="company", key="tier", label="Tier", type="text")
    good = [{"object": "company", "property": "properties.tier", "exact": "Remarks"}]
    assert setup_errors(SetupValues(field_map=good)) == {}
    bad = [
        {"object": "company", "property": "properties.nope", "exact": "Remarks"},
        {"object": "contact", "property": "email", "exact": "Bogus"},
        {"object": "company", "property": "city", "exact": "Remarks"},
    ]
    assert setup_errors(SetupValues(field_map=bad))["field_map"] == [
        "“properties.nope” is not a field or property of company records.",
        "“Bogus” is not an Exact field we can fill.",
        "The Exact field “Remarks” is mapped twice.",
    ]


def test_codes_must_come_from_exacts_lists_when_they_could_be_read(tenant_alpha):
    options = {"vat_codes": [{"code": "2", "label": "2 · BTW hoog"}], "payment_conditions": [], "gl_accounts": []}
    errors = setup_errors(SetupValues(vat_code="9", payment_condition="30"), options=options)
    assert set(errors) == {"vat_code", "payment_condition"}
    assert setup_errors(SetupValues(vat_code="2"), options=options) == {}


def test_rows_are_added_and_removed_by_posting_the_page_back(admin_client):
    base = {
        "company_scope": "all",
        "contact_scope": "all",
        "account_type": "C",
        "reference_field": "YourRef",
        "invoice_mode": "concept",
        "invoices_enabled": "on",
    }
    pipeline = Pipeline.objects.get(is_default=True)
    won = pipeline.stages.get(kind="won")
    page = admin_client.post("/integrations/exact/setup/", {**base, "st-count": "0", "action": "add_stage"})
    assert 'name="st-0-pipeline"' in page.content.decode()
    page = admin_client.post(
        "/integrations/exact/setup/",
        {
            **base,
            "st-count": "2",
            "st-0-pipeline": pipeline.pk,
            "st-0-stage": won.pk,
            "st-1-pipeline": pipeline.pk,
            "st-1-stage": won.pk,
            "st-1-remove": "1",
        },
    )
    content = page.content.decode()
    assert 'name="st-0-pipeline"' in content and 'name="st-1-pipeline"' not in content
    saved = admin_client.post(
        "/integrations/exact/setup/",
        {**base, "st-count": "1", "st-0-pipeline": pipeline.pk, "st-0-stage": won.pk, "action": "save"},
    )
    assert saved.status_code == 302
    assert ExactSettings.objects.get(pk=1).invoice_stages == [{"pipeline": pipeline.pk, "stage": won.pk}]


def test_the_summary_reads_every_setting_back(admin_client):
    PropertyDefinition.objects.create(object_type="company", key="tier", label="Tier", type="text")
    pipeline = Pipeline.objects.get(is_default=True)
    won = pipeline.stages.get(kind="won")
    exact_settings_save(
        values=SetupValues(
            invoices_enabled=True,
            company_scope="stage",
            company_min_stage="customer",
            contact_scope="none",
            field_map=[{"object": "company", "property": "properties.tier", "exact": "Remarks"}],
            account_type="P",
            vat_code="2",
            labels={"vat_code": "2 · BTW hoog 21%"},
            invoice_stages=[{"pipeline": pipeline.pk, "stage": won.pk}],
            invoice_mode="processed",
            default_item_code="CONSULT",
        )
    )
    page = admin_client.get("/integrations/exact/").content.decode()
    for sentence in (
        "Companies and contacts always sync to Exact&#x27;s accounts and contacts.",
        "Sales invoices: on. Sales opportunities: off.",
        "Companies that sync: those at or past the lifecycle stage “Customer”.",
        "Contacts that sync: none.",
        "The company field “properties.tier” fills Exact&#x27;s “Remarks”.",
        "New accounts in Exact are created as prospect.",
        "Accounts get the VAT code 2 · BTW hoog 21%.",
        "Our invoice number goes into Exact&#x27;s Your reference (YourRef).",
        "A deal in the pipeline “Sales pipeline” that reaches “Closed won” gets a sales invoice in Exact.",
        "Exact receives each invoice as a processed invoice.",
        "Invoice lines default to the item code CONSULT.",
    ):
        assert sentence in page, sentence
