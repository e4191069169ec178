from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from commerce_hub.accounts.models import AuditEntry, Role
from crm.models import Company, Contact, Deal, DealStageChange, LifecycleStage, Pipeline, PropertyDefinition, Stage
from crm.selectors import lifecycle_labels
from crm.services import configuration as services
from crm.services.records import deal_move_stage, record_create
from tests.conftest import user_make


@pytest.fixture
def pipeline(tenant_alpha):
    pipeline = Pipeline.objects.create(name="Partner sales", position=9)
    for position, (name, probability, kind) in enumerate([("Intro", 10, "open"), ("Won", 100, "won")]):
        Stage.objects.create(pipeline=pipeline, name=name, probability=probability, kind=kind, position=position)
    return pipeline


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def _stage_names(pipeline) -> list[str]:
    return list(pipeline.stages.order_by("position", "id").values_list("name", flat=True))


# --- pipelines and stages ----------------------------------------------------------------------------------------


def test_admin_creates_and_renames_a_pipeline_with_audit_rows(admin_client, tenant_alpha):
    response = admin_client.post("/crm/settings/pipelines/", {"new-name": "  Renewals  "})
    pipeline = Pipeline.objects.get(name="Renewals")
    assert response.status_code == 302
    assert response["Location"] == f"/crm/settings/pipelines/{pipeline.pk}/"
    response = admin_client.post(f"/crm/settings/pipelines/{pipeline.pk}/", {"name": "Renewals 2027"})
    assert response.status_code == 302
    pipeline.refresh_from_db()
    assert pipeline.name == "Renewals 2027"
    entries = AuditEntry.objects.filter(object_type="crm.pipeline", object_id=str(pipeline.pk)).order_by("id")
    assert [(e.action, e.before, e.after) for e in entries] == [
        ("crm.pipeline_created", None, {"name": "Renewals"}),
        ("crm.pipeline_renamed", {"name": "Renewals"}, {"name": "Renewals 2027"}),
    ]


def test_pipeline_names_must_be_given_and_unique(admin_client, pipeline):
    response = admin_client.post("/crm/settings/pipelines/", {"new-name": "partner SALES"})
    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["Another pipeline is already called “partner SALES”."]}
    response = admin_client.post("/crm/settings/pipelines/", {"new-name": "   "})
    assert response.status_code == 400
    assert response.context["form"].errors == {"name": ["This field is required."]}
    assert Pipeline.objects.filter(name__iexact="partner sales").count() == 1


def test_deleting_a_pipeline_with_deals_is_refused_with_the_count(admin_client, pipeline):
    for i in range(3):
        Deal.objects.create(name=f"D{i}", pipeline=pipeline, stage=pipeline.stages.first())
    response = admin_client.post(f"/crm/settings/pipelines/{pipeline.pk}/delete/", follow=True)
    assert "3 deals are in this pipeline. Move or delete them first." in _messages(response)
    assert Pipeline.objects.filter(pk=pipeline.pk).exists()


def test_deleting_an_empty_pipeline_removes_its_stages_and_hands_on_the_default(admin_client, pipeline):
    Pipeline.objects.filter(is_default=True).update(is_default=False)
    Pipeline.objects.filter(pk=pipeline.pk).update(is_default=True)
    response = admin_client.post(f"/crm/settings/pipelines/{pipeline.pk}/delete/", follow=True)
    assert "Pipeline “Partner sales” deleted." in _messages(response)
    assert not Stage.objects.filter(pipeline_id=pipeline.pk).exists()
    assert Pipeline.objects.filter(is_default=True).count() == 1
    assert AuditEntry.objects.filter(action="crm.pipeline_deleted", object_id=str(pipeline.pk)).exists()


def test_the_last_pipeline_cannot_be_deleted(admin_user, pipeline):
    Pipeline.objects.exclude(pk=pipeline.pk).delete()
    with pytest.raises(ValidationError) as exc:
        services.pipeline_delete(pipeline=pipeline, actor=admin_user)
    assert exc.value.messages == ["This is the only pipeline. Create another one before deleting it."]


def test_make_default_keeps_exactly_one_default(admin_client, pipeline):
    response = admin_client.post(f"/crm/settings/pipelines/{pipeline.pk}/default/")
    assert response.status_code == 302
    assert list(Pipeline.objects.filter(is_default=True)) == [pipeline]


def test_reorder_pipelines(admin_client, pipeline):
    second = services.pipeline_create(name="Renewals", actor=None)
    admin_client.post(f"/crm/settings/pipelines/{second.pk}/move/", {"direction": "up"})
    names = [p.name for p in admin_client.get("/crm/settings/pipelines/").context["pipelines"]]
    assert names[-2:] == ["Renewals", "Partner sales"]


def test_add_a_stage_with_probability_and_kind(admin_client, pipeline):
    response = admin_client.post(
        f"/crm/settings/pipelines/{pipeline.pk}/stages/",
        {"stage-name": "Negotiation", "stage-probability": "75.5", "stage-kind": "open"},
    )
    assert response.status_code == 302
    stage = pipeline.stages.get(name="Negotiation")
    assert (stage.probability, stage.kind) == (Decimal("75.50"), "open")
    assert _stage_names(pipeline) == ["Intro", "Won", "Negotiation"]
    assert AuditEntry.objects.get(action="crm.stage_created", object_id=str(stage.pk)).after["probability"] == "75.50"


def test_a_probability_of_150_is_refused_next_to_the_field(admin_client, pipeline):
    response = admin_client.post(
        f"/crm/settings/pipelines/{pipeline.pk}/stages/",
        {"stage-name": "Dreaming", "stage-probability": "150", "stage-kind": "open"},
    )
    assert response.status_code == 400
    assert response.context["stage_form"].errors == {"probability": ["Ensure this value is less than or equal to 100."]}
    assert 'id="id_stage-probability_error"' in response.content.decode()
    assert not Stage.objects.filter(name="Dreaming").exists()


def test_the_service_refuses_probabilities_outside_0_to_100(admin_user, pipeline):
    for bad in ("150", "-1", "abc", "12.345"):
        with pytest.raises(ValidationError) as exc:
            services.stage_create(pipeline=pipeline, name="X", probability=bad, kind="open", actor=admin_user)
        assert list(exc.value.message_dict) == ["probability"], bad
    with pytest.raises(ValidationError) as exc:
        services.stage_create(pipeline=pipeline, name="X", probability="50", kind="maybe", actor=admin_user)
    assert exc.value.message_dict == {"kind": ["Choose open, won or lost."]}
    assert not pipeline.stages.filter(name="X").exists()


def test_the_service_reads_a_probability_in_the_users_notation(admin_user, pipeline):
    with translation.override("nl"):
        stage = services.stage_create(
            pipeline=pipeline, name="Offerte", probability="12,5", kind="open", actor=admin_user
        )
    assert stage.probability == Decimal("12.50")


def test_stage_names_do_not_repeat_within_a_pipeline(admin_client, pipeline):
    response = admin_client.post(
        f"/crm/settings/pipelines/{pipeline.pk}/stages/",
        {"stage-name": "intro", "stage-probability": "10", "stage-kind": "open"},
    )
    assert response.status_code == 400
    assert response.context["stage_form"].errors == {"name": ["This pipeline already has a stage called “intro”."]}


def test_edit_a_stage_name_probability_and_kind(admin_client, pipeline):
    stage = pipeline.stages.get(name="Intro")
    response = admin_client.post(
        f"/crm/settings/stages/{stage.pk}/", {"name": "Discovery", "probability": "15", "kind": "lost"}
    )
    assert response.status_code == 302
    stage.refresh_from_db()
    assert (stage.name, stage.probability, stage.kind) == ("Discovery", Decimal("15.00"), "lost")
    entry = AuditEntry.objects.get(action="crm.stage_updated", object_id=str(stage.pk))
    assert (entry.before["name"], entry.after["name"], entry.after["kind"]) == ("Intro", "Discovery", "lost")


def test_reorder_stages_up_and_down(admin_client, pipeline):
    services.stage_create(pipeline=pipeline, name="Demo", probability=30, kind="open", actor=None)
    demo = pipeline.stages.get(name="Demo")
    admin_client.post(f"/crm/settings/stages/{demo.pk}/move/", {"direction": "up"})
    assert _stage_names(pipeline) == ["Intro", "Demo", "Won"]
    admin_client.post(f"/crm/settings/stages/{demo.pk}/move/", {"direction": "up"})
    admin_client.post(f"/crm/settings/stages/{demo.pk}/move/", {"direction": "up"})  # already first: no change
    assert _stage_names(pipeline) == ["Demo", "Intro", "Won"]
    admin_client.post(f"/crm/settings/stages/{demo.pk}/move/", {"direction": "down"})
    assert _stage_names(pipeline) == ["Intro", "Demo", "Won"]
    assert list(pipeline.stages.order_by("position").values_list("position", flat=True)) == [0, 1, 2]


def test_deleting_a_stage_with_deals_is_refused_with_the_count(admin_client, pipeline):
    intro = pipeline.stages.get(name="Intro")
    for i in range(2):
        Deal.objects.create(name=f"D{i}", pipeline=pipeline, stage=intro)
    response = admin_client.post(f"/crm/settings/stages/{intro.pk}/delete/", follow=True)
    assert "2 deals are in this stage. Move them to another stage first." in _messages(response)
    assert Stage.objects.filter(pk=intro.pk).exists()
    assert not AuditEntry.objects.filter(action="crm.stage_deleted").exists()


def test_deleting_an_unused_stage_works(admin_client, pipeline):
    intro = pipeline.stages.get(name="Intro")
    response = admin_client.post(f"/crm/settings/stages/{intro.pk}/delete/", follow=True)
    assert "Stage “Intro” deleted." in _messages(response)
    assert _stage_names(pipeline) == ["Won"]
    assert AuditEntry.objects.get(action="crm.stage_deleted").before["name"] == "Intro"


def test_a_stage_in_the_deal_history_is_archived_not_erased(admin_client, admin_user, pipeline):
    intro, won = pipeline.stages.get(name="Intro"), pipeline.stages.get(name="Won")
    deal = record_create(object_type="deal", data={"name": "History", "stage": str(intro.pk)}, actor=admin_user)
    deal_move_stage(deal=deal, stage_id=won.pk, actor=admin_user)
    assert services.stage_delete(stage=intro, actor=admin_user) is False
    # Gone from the pipeline, the board and the forms...
    assert _stage_names(pipeline) == ["Won"]
    assert intro.pk not in [s.pk for s in Stage.objects.all()]
    page = admin_client.get(f"/crm/deals/board/?pipeline={pipeline.pk}").content.decode()
    assert f'data-stage="{intro.pk}"' not in page
    # ...kept in the deal's history, by name.
    change = DealStageChange.objects.get(deal=deal, to_stage=won)
    assert change.from_stage.name == "Intro" and change.from_stage.is_archived
    assert AuditEntry.objects.get(action="crm.stage_archived").before["name"] == "Intro"
    # A deal cannot be moved back into it.
    with pytest.raises(ValidationError):
        deal_move_stage(deal=deal, stage_id=intro.pk, actor=admin_user)


def test_the_last_stage_of_a_pipeline_stays(admin_user, pipeline):
    pipeline.stages.get(name="Intro").delete()
    with pytest.raises(ValidationError) as exc:
        services.stage_delete(stage=pipeline.stages.get(), actor=admin_user)
    assert exc.value.messages == ["A pipeline needs at least one stage."]


# --- lifecycle stages --------------------------------------------------------------------------------------------


def test_the_default_lifecycle_stages_are_listed_in_order(admin_client):
    response = admin_client.get("/crm/settings/lifecycle-stages/")
    assert response.status_code == 200
    assert [s.key for s in response.context["stages"]] == [
        "subscriber",
        "lead",
        "mql",
        "sql",
        "opportunity",
        "customer",
        "evangelist",
        "other",
    ]


def test_add_a_lifecycle_stage_with_a_slugged_key_and_clear_the_label_cache(admin_client):
    assert "partner_prospect" not in lifecycle_labels()  # cached now
    response = admin_client.post("/crm/settings/lifecycle-stages/", {"new-label": "Partner prospect"})
    assert response.status_code == 302
    stage = LifecycleStage.objects.get(label="Partner prospect")
    assert stage.key == "partner_prospect"
    assert stage.position == LifecycleStage.objects.exclude(pk=stage.pk).order_by("-position")[0].position + 1
    assert lifecycle_labels()["partner_prospect"] == "Partner prospect"
    assert AuditEntry.objects.filter(action="crm.lifecycle_stage_created", object_id=str(stage.pk)).exists()


def test_duplicate_lifecycle_labels_are_refused(admin_client):
    response = admin_client.post("/crm/settings/lifecycle-stages/", {"new-label": "customer"})
    assert response.status_code == 400
    assert response.context["form"].errors == {"label": ["Another lifecycle stage is called “customer”."]}


def test_rename_a_lifecycle_stage_keeps_the_key_and_updates_labels(admin_client):
    stage = LifecycleStage.objects.get(key="evangelist")
    assert lifecycle_labels()["evangelist"] == "Evangelist"
    response = admin_client.post(f"/crm/settings/lifecycle-stages/{stage.pk}/", {"label": "Ambassador"})
    assert response.status_code == 302
    stage.refresh_from_db()
    assert (stage.key, stage.label) == ("evangelist", "Ambassador")
    assert lifecycle_labels()["evangelist"] == "Ambassador"


def test_reorder_lifecycle_stages(admin_client):
    other = LifecycleStage.objects.get(key="other")
    admin_client.post(f"/crm/settings/lifecycle-stages/{other.pk}/move/", {"direction": "up"})
    keys = list(LifecycleStage.objects.values_list("key", flat=True))
    assert keys[-2:] == ["other", "evangelist"]


def test_a_lifecycle_stage_in_use_is_deactivated_not_deleted(admin_client):
    Company.objects.create(name="Acme", lifecycle_stage="subscriber")
    Contact.objects.create(first_name="Ola", email="ola@example.com", lifecycle_stage="subscriber")
    stage = LifecycleStage.objects.get(key="subscriber")
    response = admin_client.post(f"/crm/settings/lifecycle-stages/{stage.pk}/delete/", follow=True)
    assert "2 companies and contacts are in this stage. Deactivate the stage instead." in _messages(response)
    assert LifecycleStage.objects.filter(pk=stage.pk).exists()
    response = admin_client.post(f"/crm/settings/lifecycle-stages/{stage.pk}/active/", {"active": "0"}, follow=True)
    assert "“Subscriber” deactivated: records keep it." in _messages(response)
    stage.refresh_from_db()
    assert not stage.is_active
    assert Company.objects.get(name="Acme").lifecycle_stage == "subscriber"
    admin_client.post(f"/crm/settings/lifecycle-stages/{stage.pk}/active/", {"active": "1"})
    stage.refresh_from_db()
    assert stage.is_active


def test_an_unused_lifecycle_stage_can_be_deleted(admin_client):
    stage = LifecycleStage.objects.get(key="evangelist")
    lifecycle_labels()
    response = admin_client.post(f"/crm/settings/lifecycle-stages/{stage.pk}/delete/", follow=True)
    assert "Lifecycle stage “Evangelist” deleted." in _messages(response)
    assert "evangelist" not in lifecycle_labels()


# --- custom properties -------------------------------------------------------------------------------------------


def _create_property(client, object_type="company", **data):
    return client.post(f"/crm/settings/properties/new/?object={object_type}", data)


def test_create_a_property_with_an_internal_name_from_its_label(admin_client):
    response = _create_property(admin_client, label="Customer tier", property_type="text")
    assert response.status_code == 302
    assert response["Location"] == "/crm/settings/properties/?object=company"
    definition = PropertyDefinition.objects.get(object_type="company", label="Customer tier")
    assert (definition.key, definition.type, definition.is_archived) == ("customer_tier", "text", False)
    assert AuditEntry.objects.get(action="crm.property_created").after["key"] == "customer_tier"


def test_a_duplicate_property_key_is_refused_per_object_type(admin_client):
    _create_property(admin_client, label="Customer tier", property_type="text")
    response = _create_property(admin_client, label="Tier", key="customer_tier", property_type="number")
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "key": ["A company property with the internal name “customer_tier” already exists."]
    }
    assert 'id="id_key_error"' in response.content.decode()
    assert PropertyDefinition.objects.filter(key="customer_tier").count() == 1
    # The same internal name on another object type is another property.
    assert _create_property(admin_client, "deal", label="Customer tier", property_type="text").status_code == 302
    assert PropertyDefinition.objects.filter(key="customer_tier").count() == 2


def test_property_keys_must_be_lowercase_identifiers(admin_client):
    response = _create_property(admin_client, label="Region", key="Region Name!", property_type="text")
    assert response.status_code == 400
    assert response.context["form"].errors["key"] == [
        "Use lowercase letters, digits and underscores, starting with a letter (at most 60 characters)."
    ]


def test_choice_properties_take_one_option_per_line(admin_client):
    response = _create_property(
        admin_client, "deal", label="Source", property_type="choice", choices="Website\n\n  Trade fair \nReferral\n"
    )
    assert response.status_code == 302
    definition = PropertyDefinition.objects.get(key="source")
    assert definition.choices == [
        {"value": "website", "label": "Website"},
        {"value": "trade_fair", "label": "Trade fair"},
        {"value": "referral", "label": "Referral"},
    ]


@pytest.mark.parametrize(
    ("choices", "message"),
    [("", "Enter at least one option, one per line."), ("Gold\nSilver\ngold", "“gold” is listed twice.")],
)
def test_bad_choice_options_are_refused(admin_client, choices, message):
    response = _create_property(admin_client, label="Tier", property_type="choice", choices=choices)
    assert response.status_code == 400
    assert response.context["form"].errors == {"choices": [message]}
    assert not PropertyDefinition.objects.filter(key="tier").exists()


def test_rename_a_property_but_never_change_its_type(admin_client):
    _create_property(admin_client, label="Contract end", property_type="date")
    definition = PropertyDefinition.objects.get(key="contract_end")
    response = admin_client.post(
        f"/crm/settings/properties/{definition.pk}/",
        {"label": "Contract end date", "property_type": "text", "type": "text", "key": "other"},
    )
    assert response.status_code == 302
    definition.refresh_from_db()
    assert (definition.label, definition.type, definition.key) == ("Contract end date", "date", "contract_end")
    page = admin_client.get(f"/crm/settings/properties/{definition.pk}/").content.decode()
    assert 'name="property_type"' not in page
    assert "the type cannot be changed" in page


def test_editing_options_keeps_the_values_records_use(admin_client):
    _create_property(admin_client, label="Tier", property_type="choice", choices="Gold\nSilver")
    definition = PropertyDefinition.objects.get(key="tier")
    admin_client.post(f"/crm/settings/properties/{definition.pk}/", {"label": "Tier", "choices": "Platinum\nGold"})
    definition.refresh_from_db()
    assert definition.choices == [{"value": "platinum", "label": "Platinum"}, {"value": "gold", "label": "Gold"}]


def test_archive_unarchive_and_reorder_properties(admin_client):
    for label in ("First", "Second", "Third"):
        _create_property(admin_client, label=label, property_type="text")
    third = PropertyDefinition.objects.get(key="third")
    admin_client.post(f"/crm/settings/properties/{third.pk}/move/", {"direction": "up"})
    keys = list(PropertyDefinition.objects.filter(object_type="company").values_list("key", flat=True))
    assert keys == ["first", "third", "second"]
    response = admin_client.post(f"/crm/settings/properties/{third.pk}/archive/", {"archived": "1"}, follow=True)
    assert "“Third” archived. Records keep their values; you can unarchive it." in _messages(response)
    third.refresh_from_db()
    assert third.is_archived
    assert [d.key for d in response.context["definitions"]] == ["first", "second", "third"]  # archived last
    admin_client.post(f"/crm/settings/properties/{third.pk}/archive/", {"archived": "0"})
    third.refresh_from_db()
    assert not third.is_archived
    entries = AuditEntry.objects.filter(object_id=str(third.pk), object_type="crm.propertydefinition").order_by("id")
    assert [e.action for e in entries] == [
        "crm.property_created",
        "crm.property_moved",
        "crm.property_archived",
        "crm.property_unarchived",
    ]


# --- pages and permissions ---------------------------------------------------------------------------------------


def test_configuration_pages_render_for_admins_with_settings_tabs(admin_client, pipeline):
    stage = pipeline.stages.first()
    lifecycle = LifecycleStage.objects.first()
    for path in [
        "/crm/settings/pipelines/",
        f"/crm/settings/pipelines/{pipeline.pk}/",
        f"/crm/settings/stages/{stage.pk}/",
        "/crm/settings/lifecycle-stages/",
        f"/crm/settings/lifecycle-stages/{lifecycle.pk}/",
        "/crm/settings/properties/?object=deal",
        "/crm/settings/properties/new/?object=contact",
    ]:
        response = admin_client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        for tab in ("Pipelines", "Lifecycle stages", "Properties"):
            assert f">{tab}</a>" in html, (path, tab)


def test_empty_property_list_shows_an_empty_state(admin_client):
    html = admin_client.get("/crm/settings/properties/?object=contact").content.decode()
    assert "No custom properties yet" in html
    assert 'href="/crm/settings/properties/new/?object=contact"' in html


@pytest.mark.parametrize("role", [Role.SALES, Role.FINANCE, Role.READ_ONLY])
def test_only_admins_configure(tenant_alpha, pipeline, role):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    stage = pipeline.stages.first()
    for path in ["/crm/settings/pipelines/", "/crm/settings/lifecycle-stages/", "/crm/settings/properties/"]:
        assert client.get(path).status_code == 403, path
    assert client.post(f"/crm/settings/stages/{stage.pk}/delete/").status_code == 403
    assert client.post("/crm/settings/pipelines/", {"new-name": "Sneaky"}).status_code == 403
    assert Stage.objects.filter(pk=stage.pk).exists()
    assert not Pipeline.objects.filter(name="Sneaky").exists()


def test_unknown_ids_are_404(admin_client):
    for path in ["/crm/settings/pipelines/987654/", "/crm/settings/stages/987654/", "/crm/settings/properties/987654/"]:
        assert admin_client.get(path).status_code == 404, path
