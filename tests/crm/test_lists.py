from datetime import date, timedelta

from crm.lists import register_criterion
from crm.models import Company, Contact, CrmList, Deal, Pipeline, Task


def rows(response):
    return [r.pk for r in response.context["page"].rows]


def test_dynamic_list_recomputes_when_viewed(admin_client, admin_user):
    response = admin_client.post(
        "/crm/lists/new/",
        {
            "name": "Dutch leads",
            "object_type": "company",
            "kind": "dynamic",
            "query": "country=NL&lifecycle_stage=lead&after=xyz",
        },
    )
    crm_list = CrmList.objects.get()
    assert response["Location"] == f"/crm/lists/{crm_list.pk}/"
    assert crm_list.definition == {"query": "country=NL&lifecycle_stage=lead", "criteria": []}
    amstel = Company.objects.create(name="Amstel", country="NL", lifecycle_stage="lead")
    Company.objects.create(name="Bergen", country="NO", lifecycle_stage="lead")
    assert rows(admin_client.get(f"/crm/lists/{crm_list.pk}/")) == [amstel.pk]
    later = Company.objects.create(name="Arnhem", country="NL", lifecycle_stage="lead")
    assert rows(admin_client.get(f"/crm/lists/{crm_list.pk}/")) == [amstel.pk, later.pk]
    Company.objects.filter(pk=amstel.pk).update(lifecycle_stage="customer")
    assert rows(admin_client.get(f"/crm/lists/{crm_list.pk}/")) == [later.pk]


def test_static_list_holds_the_records_added(admin_client):
    a, b, c = (Contact.objects.create(first_name=n, email=f"{n}@x.example") for n in ("ada", "bob", "cyd"))
    admin_client.post("/crm/lists/new/", {"name": "Event guests", "object_type": "contact", "kind": "static"})
    crm_list = CrmList.objects.get()
    admin_client.post("/crm/contacts/bulk/", {"action": f"list:{crm_list.pk}", "ids": [a.pk, c.pk]})
    admin_client.post("/crm/contacts/bulk/", {"action": f"list:{crm_list.pk}", "ids": [a.pk]})  # twice: once
    assert crm_list.members.count() == 2
    page = admin_client.get(f"/crm/lists/{crm_list.pk}/")
    assert sorted(rows(page)) == sorted([a.pk, c.pk])
    admin_client.post(f"/crm/lists/{crm_list.pk}/remove/", {"ids": [a.pk]})
    assert rows(admin_client.get(f"/crm/lists/{crm_list.pk}/")) == [c.pk]
    assert b.pk not in rows(page)


def test_criteria_from_other_code_join_a_dynamic_list(admin_client):
    pipeline = Pipeline.objects.get(is_default=True)
    open_stage = pipeline.stages.get(position=0)
    soon = Deal.objects.create(
        name="Soon", pipeline=pipeline, stage=open_stage, close_date=date.today() + timedelta(days=5)
    )
    Deal.objects.create(name="Later", pipeline=pipeline, stage=open_stage, close_date=date.today() + timedelta(days=50))
    admin_client.post(
        "/crm/lists/new/",
        {
            "name": "Closing soon",
            "object_type": "deal",
            "kind": "dynamic",
            "criteria": ["deal.closing_within"],
            "days": "10",
        },
    )
    crm_list = CrmList.objects.get()
    assert crm_list.definition["criteria"] == [{"key": "deal.closing_within", "params": {"days": 10}}]
    assert rows(admin_client.get(f"/crm/lists/{crm_list.pk}/")) == [soon.pk]

    # A later app registers its own criterion and lists can use it at once.
    register_criterion(
        "contact.has_task_named",
        object_type="contact",
        label="Has a task called Call",
        apply=lambda qs, _p: qs.filter(tasks__title="Call").distinct(),
    )
    who = Contact.objects.create(first_name="Wim", email="wim@x.example")
    Contact.objects.create(first_name="Zoe", email="zoe@x.example")
    Task.objects.create(title="Call", contact=who)
    admin_client.post(
        "/crm/lists/new/",
        {"name": "To call", "object_type": "contact", "kind": "dynamic", "criteria": ["contact.has_task_named"]},
    )
    to_call = CrmList.objects.get(name="To call")
    assert rows(admin_client.get(f"/crm/lists/{to_call.pk}/")) == [who.pk]


def test_list_form_errors_and_delete_confirmation(admin_client):
    response = admin_client.post(
        "/crm/lists/new/",
        {"name": "", "object_type": "deal", "kind": "dynamic", "criteria": ["deal.closing_within"], "days": "0"},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["name"] == ["This field is required."]
    assert response.context["form"].errors["days"] == ["Ensure this value is greater than or equal to 1."]
    admin_client.post("/crm/lists/new/", {"name": "Keep", "object_type": "company", "kind": "static"})
    crm_list = CrmList.objects.get()
    assert "Only the list goes." in admin_client.get(f"/crm/lists/{crm_list.pk}/delete/").content.decode()
    admin_client.post(f"/crm/lists/{crm_list.pk}/delete/")
    assert not CrmList.objects.exists()
