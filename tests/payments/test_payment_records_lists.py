"""The CRM list criterion payments registers: contacts who made a payment in the last N days."""

from datetime import timedelta

from django.utils import timezone

from crm.models import CrmList
from payments.models import Payment
from payments.processors.builtin import CARD_DECLINED
from tests.billing.invoicing import buyer_make
from tests.payments.paying import open_invoice, pay


def rows(response) -> list[int]:
    assert response.status_code == 200
    return [row.pk for row in response.context["page"].rows]


def test_a_dynamic_list_of_contacts_who_paid_within_n_days(admin_client, tenant_alpha):
    now = timezone.now()
    recent_company, recent = buyer_make(name="Recent AS", email="recent@example.com")
    old_company, old = buyer_make(name="Old AS", email="old@example.com")
    declined_company, declined = buyer_make(name="Declined AS", email="declined@example.com")
    buyer_make(name="Never AS", email="never@example.com")
    paid_recently = pay(open_invoice(company=recent_company, contacts=[recent]))
    paid_long_ago = pay(open_invoice(company=old_company, contacts=[old]))
    pay(open_invoice(company=declined_company, contacts=[declined]), data={"number": CARD_DECLINED, "cvc": "1"})
    Payment.objects.filter(pk=paid_recently.pk).update(succeeded_at=now - timedelta(days=2))
    Payment.objects.filter(pk=paid_long_ago.pk).update(succeeded_at=now - timedelta(days=30))
    assert {paid_recently.contact_id, paid_long_ago.contact_id} == {recent.pk, old.pk}

    form = admin_client.get("/crm/lists/new/?object_type=contact").content.decode()
    assert "Made a payment in the last N days" in form

    admin_client.post(
        "/crm/lists/new/",
        {
            "name": "Paid this week",
            "object_type": "contact",
            "kind": "dynamic",
            "criteria": ["contact.paid_within"],
            "days": "7",
        },
    )
    week = CrmList.objects.get(name="Paid this week")
    assert week.definition["criteria"] == [{"key": "contact.paid_within", "params": {"days": 7}}]
    assert rows(admin_client.get(f"/crm/lists/{week.pk}/")) == [recent.pk]

    admin_client.post(
        "/crm/lists/new/",
        {
            "name": "Paid this quarter",
            "object_type": "contact",
            "kind": "dynamic",
            "criteria": ["contact.paid_within"],
            "days": "90",
        },
    )
    quarter = CrmList.objects.get(name="Paid this quarter")
    assert sorted(rows(admin_client.get(f"/crm/lists/{quarter.pk}/"))) == sorted([recent.pk, old.pk])

    # The list follows the payments: a contact whose payment is now older than the window leaves it.
    Payment.objects.filter(pk=paid_recently.pk).update(succeeded_at=now - timedelta(days=8))
    assert rows(admin_client.get(f"/crm/lists/{week.pk}/")) == []


def test_a_hand_edited_number_of_days_falls_back_instead_of_breaking_the_list(admin_client, tenant_alpha):
    company, contact = buyer_make(name="Recent AS", email="recent@example.com")
    pay(open_invoice(company=company, contacts=[contact]))
    crm_list = CrmList.objects.create(
        object_type="contact",
        name="Odd",
        kind="dynamic",
        definition={"query": "", "criteria": [{"key": "contact.paid_within", "params": {"days": "soon"}}]},
    )
    assert rows(admin_client.get(f"/crm/lists/{crm_list.pk}/")) == [contact.pk]
