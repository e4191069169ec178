"""A company or contact that finalized invoices are addressed to cannot be deleted, one at a time or in bulk."""

from crm.models import Company, Contact
from tests.billing.invoicing import buyer_make, draft_make, finalized_make, seller_ready


def test_a_company_with_a_finalized_invoice_is_kept_and_the_message_names_the_invoice(admin_client, admin_user):
    seller_ready()
    company, contact = buyer_make()
    invoice = finalized_make(actor=admin_user, company=company, contacts=[contact])

    response = admin_client.post(f"/crm/companies/{company.pk}/delete/", follow=True)

    assert Company.objects.filter(pk=company.pk).exists()
    invoice.refresh_from_db()
    assert invoice.company_id == company.pk
    assert (
        f"This company cannot be deleted: finalized invoice {invoice.number} is addressed to it."
        in response.content.decode()
    )


def test_a_contact_on_finalized_invoices_is_kept_and_every_invoice_is_named(admin_client, admin_user):
    seller_ready()
    company, contact = buyer_make()
    first = finalized_make(actor=admin_user, company=company, contacts=[contact])
    second = finalized_make(actor=admin_user, company=company, contacts=[contact])

    response = admin_client.post(f"/crm/contacts/{contact.pk}/delete/", follow=True)

    assert Contact.objects.filter(pk=contact.pk).exists()
    assert list(first.contacts.all()) == [contact]
    assert (
        f"This contact cannot be deleted: finalized invoices {first.number}, {second.number} are addressed to it."
        in response.content.decode()
    )


def test_a_draft_invoice_does_not_hold_its_company_back(admin_client, admin_user):
    seller_ready()
    company, contact = buyer_make()
    draft = draft_make(actor=admin_user, company=company, contacts=[contact])

    admin_client.post(f"/crm/companies/{company.pk}/delete/")

    assert not Company.objects.filter(pk=company.pk).exists()
    draft.refresh_from_db()
    assert draft.company_id is None


def test_bulk_delete_deletes_nothing_when_one_company_has_finalized_invoices(admin_client, admin_user):
    seller_ready()
    kept, contact = buyer_make(name="Fjordline AS")
    free = Company.objects.create(name="Nordlys AS")
    invoice = finalized_make(actor=admin_user, company=kept, contacts=[contact])

    response = admin_client.post(
        "/crm/companies/bulk/",
        {"action": "delete", "confirm": "yes", "ids": [str(kept.pk), str(free.pk)]},
        follow=True,
    )

    assert set(Company.objects.filter(pk__in=[kept.pk, free.pk]).values_list("name", flat=True)) == {
        "Fjordline AS",
        "Nordlys AS",
    }
    assert (
        f"These companies cannot be deleted: finalized invoice {invoice.number} is addressed to one of them."
        in response.content.decode()
    )


def test_bulk_delete_of_contacts_without_finalized_invoices_goes_ahead(admin_client, admin_user):
    seller_ready()
    first = Contact.objects.create(first_name="Ola", last_name="Nordmann", email="ola@example.com")
    second = Contact.objects.create(first_name="Kari", last_name="Berg", email="kari@example.com")

    response = admin_client.post(
        "/crm/contacts/bulk/",
        {"action": "delete", "confirm": "yes", "ids": [str(first.pk), str(second.pk)]},
        follow=True,
    )

    assert not Contact.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert "2 records deleted." in response.content.decode()


def test_the_delete_page_says_why_before_anyone_clicks_and_offers_no_delete_button(admin_client, admin_user):
    seller_ready()
    company, contact = buyer_make()
    invoice = finalized_make(actor=admin_user, company=company, contacts=[contact])

    html = admin_client.get(f"/crm/companies/{company.pk}/delete/").content.decode()

    assert f"This company cannot be deleted: finalized invoice {invoice.number} is addressed to it." in html
    assert '<button type="submit" class="danger">' not in html
