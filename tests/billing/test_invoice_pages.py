"""The invoice pages as finance staff and buyers use them: drafts from deals, editing, finalizing (twice), payments
with inline errors, void confirmation, permissions, and the hosted page with its headers and forged tokens."""

from decimal import Decimal

import pytest
from django.test import Client

from billing.models import Invoice, InvoiceEvent, InvoiceStatus, LineItem
from commerce_hub.accounts.models import Role
from crm.demo_data import default_pipeline_ensure
from crm.models import Deal
from tests.billing.invoicing import buyer_make, draft_make, finalized_make, form_key, key, seller_ready
from tests.conftest import user_make


@pytest.fixture
def seller(tenant_alpha):
    return seller_ready()


def client_for(role: str) -> Client:
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    return client


def test_a_draft_from_a_deal_copies_its_company_contacts_and_lines(seller, admin_client):
    company, contact = buyer_make()
    stage = default_pipeline_ensure().stages.first()
    deal = Deal.objects.create(
        name="Scanners", pipeline=stage.pipeline, stage=stage, company=company, amount_currency="EUR"
    )
    deal.contacts.add(contact)
    LineItem.objects.create(
        deal=deal, name="Scanner", quantity=Decimal(3), unit_price=Decimal("199.99"), currency="EUR"
    )
    response = admin_client.post(f"/billing/invoices/from/deal/{deal.pk}/")
    invoice = Invoice.objects.get(deal=deal)
    assert response.status_code == 302 and response["Location"] == f"/billing/invoices/{invoice.pk}/"
    assert (invoice.company, list(invoice.contacts.all()), invoice.currency) == (company, [contact], "EUR")
    assert list(LineItem.objects.filter(invoice=invoice).values_list("name", "quantity")) == [("Scanner", Decimal(3))]
    assert LineItem.objects.filter(deal=deal).count() == 1  # the deal keeps its own lines
    page = admin_client.get(response["Location"]).content.decode()
    assert "Finalizing numbers this invoice INV-1001 and freezes it." in page
    assert 'id="line-editor"' in page


def test_the_draft_form_shows_errors_next_to_fields(seller, admin_client):
    invoice = draft_make()
    response = admin_client.post(
        f"/billing/invoices/{invoice.pk}/edit/",
        {
            "company": "No such company",
            "currency": "EUR",
            "language": "en",
            "terms": "custom",
            "terms_days": "",
            "payment_methods": ["bank_transfer"],
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Choose a company from the list." in body
    assert "Enter the number of days." in body


def test_editing_terms_and_language_of_a_draft(seller, admin_client):
    invoice = draft_make()
    response = admin_client.post(
        f"/billing/invoices/{invoice.pk}/edit/",
        {
            "company": f"{invoice.company.name} (#{invoice.company.pk})",
            "contacts": [c.pk for c in invoice.contacts.all()],
            "currency": "EUR",
            "language": "nb",
            "terms": "30",
            "payment_methods": ["bank_transfer", "card"],
            "comments": "Takk for handelen!",
        },
    )
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert (invoice.language, invoice.payment_terms_days, invoice.comments) == ("nb", 30, "Takk for handelen!")


def test_finalize_asks_first_and_a_second_submit_changes_nothing(seller, admin_client):
    invoice = draft_make()
    confirm = admin_client.get(f"/billing/invoices/{invoice.pk}/finalize/").content.decode()
    assert "It gets the number INV-1001" in confirm
    submit = {"idempotency_key": form_key(admin_client.get(f"/billing/invoices/{invoice.pk}/finalize/"))}
    assert admin_client.post(f"/billing/invoices/{invoice.pk}/finalize/", submit).status_code == 302
    again = admin_client.post(f"/billing/invoices/{invoice.pk}/finalize/", submit, follow=True)
    assert "Invoice INV-1001 is already finalized." in again.content.decode()
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="finalized").count() == 1
    assert Invoice.objects.get(pk=invoice.pk).number == "INV-1001"


def test_read_only_users_cannot_finalize_and_sales_users_cannot_record_payments(seller, admin_user):
    draft = draft_make()
    invoice = finalized_make()
    viewer = client_for(Role.READ_ONLY)
    assert viewer.get(f"/billing/invoices/{invoice.pk}/").status_code == 200
    assert viewer.post(f"/billing/invoices/{draft.pk}/finalize/").status_code == 403
    assert viewer.post(f"/billing/invoices/{invoice.pk}/void/").status_code == 403
    for role in (Role.READ_ONLY, Role.SALES):
        client = client_for(role)
        assert client.post(f"/billing/invoices/{invoice.pk}/payments/new/", {"amount": "1"}).status_code == 403
    assert Invoice.objects.get(pk=draft.pk).status == InvoiceStatus.DRAFT


def test_a_sales_user_creates_finalizes_and_sends_an_invoice_from_a_deal(seller):
    from commerce_hub.events.models import OutgoingEmail

    company, contact = buyer_make()
    stage = default_pipeline_ensure().stages.first()
    deal = Deal.objects.create(
        name="Desks", pipeline=stage.pipeline, stage=stage, company=company, amount_currency="EUR"
    )
    deal.contacts.add(contact)
    LineItem.objects.create(deal=deal, name="Desk", quantity=Decimal(2), unit_price=Decimal("250.00"), currency="EUR")
    sales = client_for(Role.SALES)
    deal_page = sales.get(f"/crm/deals/{deal.pk}/").content.decode()
    assert f'action="/billing/invoices/from/deal/{deal.pk}/"' in deal_page
    created = sales.post(f"/billing/invoices/from/deal/{deal.pk}/")
    invoice = Invoice.objects.get(deal=deal)
    assert created.status_code == 302
    finalize_url = f"/billing/invoices/{invoice.pk}/finalize/"
    assert sales.post(finalize_url, {"idempotency_key": form_key(sales.get(finalize_url))}).status_code == 302
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (InvoiceStatus.OPEN, "INV-1001")
    send_url = f"/billing/invoices/{invoice.pk}/send/"
    sent = sales.post(send_url, {"to": [contact.email], "idempotency_key": form_key(sales.get(send_url))})
    assert sent.status_code == 302
    assert list(OutgoingEmail.objects.values_list("to", flat=True)) == [contact.email]


def test_recording_more_than_the_balance_pays_it_and_shows_the_rest_as_credit(seller, admin_client):
    invoice = finalized_make()
    bad = admin_client.post(
        f"/billing/invoices/{invoice.pk}/payments/new/",
        {"amount": "1e200000", "paid_on": "2026-11-30", "method": "bank_transfer"},
    )
    assert bad.status_code == 400
    ok = admin_client.post(
        f"/billing/invoices/{invoice.pk}/payments/new/",
        {"amount": "300.00", "paid_on": "2026-11-30", "method": "bank_transfer", "reference": "TRX-1", **key()},
    )
    assert ok.status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.PAID
    page = admin_client.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert "€58.00 kept as customer credit" in page


def test_void_asks_for_confirmation(seller, admin_client):
    invoice = finalized_make()
    page = admin_client.get(f"/billing/invoices/{invoice.pk}/void/").content.decode()
    assert "Void invoice INV-1001?" in page
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.OPEN
    admin_client.post(f"/billing/invoices/{invoice.pk}/void/", {"reason": "Duplicate", **key()})
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.VOID


# --- the hosted page --------------------------------------------------------------------------------------------------


def test_the_hosted_page_shows_the_invoice_with_no_store_and_no_referrer(seller):
    invoice = finalized_make()
    buyer = Client(HTTP_HOST="alpha.localhost")
    response = buyer.get(f"/billing/i/{invoice.public_token}/")
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "INV-1001" in body and "Fjordline AS" in body
    invoice.refresh_from_db()
    first_view = invoice.first_viewed_at
    assert first_view is not None
    buyer.get(f"/billing/i/{invoice.public_token}/")
    invoice.refresh_from_db()
    assert invoice.first_viewed_at == first_view
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="viewed").count() == 1
    from commerce_hub.accounts.models import AuditEntry
    from commerce_hub.events.models import OutboxEvent

    assert AuditEntry.objects.filter(action="invoice.viewed", object_id=str(invoice.pk)).count() == 1
    assert OutboxEvent.objects.filter(name="invoice.viewed").count() == 1


def test_staff_opening_the_hosted_page_is_not_a_buyer_view(seller, admin_client):
    invoice = finalized_make()
    assert admin_client.get(f"/billing/i/{invoice.public_token}/").status_code == 200
    invoice.refresh_from_db()
    assert invoice.first_viewed_at is None


@pytest.mark.parametrize(
    "token",
    ["x" * 43, "short", "../../etc/passwd", "%00" * 10, "Ä" * 43, "a" * 200],
)
def test_forged_hosted_tokens_find_nothing(seller, token):
    finalized_make()
    response = Client(HTTP_HOST="alpha.localhost").get(f"/billing/i/{token}/")
    assert response.status_code == 404


def test_a_draft_has_no_hosted_page(seller):
    draft = draft_make()
    assert draft.public_token is None
    assert Client(HTTP_HOST="alpha.localhost").get("/billing/i/None/").status_code == 404


def test_the_line_editor_refuses_changes_to_a_finalized_invoice(seller, admin_client):
    invoice = finalized_make()
    line = LineItem.objects.get(invoice=invoice)
    base = f"/billing/invoices/{invoice.pk}/line-items"
    assert admin_client.post(f"{base}/{line.pk}/delete/").status_code == 403
    assert admin_client.post(f"{base}/{line.pk}/clone/").status_code == 403
    assert (
        admin_client.post(f"{base}/custom/", {"name": "Extra", "quantity": "1", "unit_price": "5"}).status_code == 403
    )
    assert admin_client.get(f"{base}/").status_code == 200  # still readable
    assert list(LineItem.objects.filter(invoice=invoice).values_list("name", flat=True)) == ["Consulting"]


def test_the_buyer_never_reads_uncollectible(seller, admin_user):
    from billing.services.invoice_payments import invoice_mark_uncollectible

    invoice = finalized_make()
    invoice_mark_uncollectible(invoice=invoice, actor=admin_user)
    body = Client(HTTP_HOST="alpha.localhost").get(f"/billing/i/{invoice.public_token}/").content.decode()
    assert "Uncollectible" not in body
    assert "Open" in body


def test_a_double_submitted_payment_is_recorded_once(seller, admin_client):
    from billing.models import InvoicePayment

    invoice = finalized_make()
    form = admin_client.get(f"/billing/invoices/{invoice.pk}/payments/new/")
    token = form_key(form)
    data = {"amount": "100.00", "paid_on": "2026-11-30", "method": "bank_transfer", "idempotency_key": token}
    assert admin_client.post(f"/billing/invoices/{invoice.pk}/payments/new/", data).status_code == 302
    again = admin_client.post(f"/billing/invoices/{invoice.pk}/payments/new/", data, follow=True)
    assert "That was already done; nothing was repeated." in again.content.decode()
    assert list(InvoicePayment.objects.filter(invoice=invoice).values_list("amount", flat=True)) == [Decimal("100.00")]


def test_double_submitted_credit_note_and_send_act_once(seller, admin_client):
    from billing.models import CreditNote
    from commerce_hub.events.models import OutgoingEmail

    invoice = finalized_make()
    token = form_key(admin_client.get(f"/billing/invoices/{invoice.pk}/credit-notes/new/"))
    data = {"mode": "parts", "line_0": "1", "idempotency_key": token}
    for _ in range(2):
        admin_client.post(f"/billing/invoices/{invoice.pk}/credit-notes/new/", data)
    assert CreditNote.objects.filter(invoice=invoice).count() == 1
    token = form_key(admin_client.get(f"/billing/invoices/{invoice.pk}/send/"))
    email = invoice.contacts.get().email
    for _ in range(2):
        admin_client.post(f"/billing/invoices/{invoice.pk}/send/", {"to": [email], "idempotency_key": token})
    assert OutgoingEmail.objects.filter(to=email).count() == 1


@pytest.mark.parametrize("language", ["en", "nl", "nb"])
def test_the_payment_date_starts_at_today_in_the_tenants_timezone(seller, language):
    import datetime
    import zoneinfo
    from unittest import mock

    from django.utils import timezone

    from commerce_hub.organization.models import OrganizationProfile

    OrganizationProfile.objects.update(timezone="Pacific/Auckland")
    invoice = finalized_make()
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.FINANCE, language=language))
    # 23:30 UTC on 4 December is already 5 December in Auckland.
    late = datetime.datetime(2026, 12, 4, 23, 30, tzinfo=datetime.UTC)
    with mock.patch.object(timezone, "now", return_value=late):
        page = client.get(f"/billing/invoices/{invoice.pk}/payments/new/").content.decode()
    assert late.astimezone(zoneinfo.ZoneInfo("Pacific/Auckland")).date().isoformat() == "2026-12-05"
    assert 'name="paid_on" value="2026-12-05"' in page


def test_a_second_invoice_from_a_deal_asks_first_and_links_the_existing_one(seller, admin_client):
    company, contact = buyer_make()
    stage = default_pipeline_ensure().stages.first()
    deal = Deal.objects.create(
        name="Racks", pipeline=stage.pipeline, stage=stage, company=company, amount_currency="EUR"
    )
    LineItem.objects.create(deal=deal, name="Rack", quantity=Decimal(1), unit_price=Decimal("80.00"), currency="EUR")
    assert admin_client.post(f"/billing/invoices/from/deal/{deal.pk}/").status_code == 302
    first = Invoice.objects.get(deal=deal)
    again = admin_client.post(f"/billing/invoices/from/deal/{deal.pk}/")
    page = again.content.decode()
    assert again.status_code == 409
    assert "Create another invoice?" in page and "The deal Racks already has an invoice." in page
    assert f'href="/billing/invoices/{first.pk}/"' in page and 'name="confirmed" value="1"' in page
    assert Invoice.objects.filter(deal=deal).count() == 1  # nothing created by the warning
    confirmed = admin_client.post(f"/billing/invoices/from/deal/{deal.pk}/", {"confirmed": "1"})
    assert confirmed.status_code == 302
    assert Invoice.objects.filter(deal=deal).count() == 2


def test_the_credit_note_form_explains_how_an_amount_at_a_rate_is_credited(seller, admin_client):
    invoice = finalized_make()
    page = admin_client.get(f"/billing/invoices/{invoice.pk}/credit-notes/new/").content.decode()
    assert (
        "An amount credits the invoice as a whole at the VAT rate you choose, not one of its lines: it is taken off "
        "what the invoice charged at that rate, and VAT at that rate is added to it, so 100.00 at 21% credits 121.00."
    ) in page


def test_a_stale_tab_editing_a_finalized_invoices_lines_is_told_the_invoice_is_finalized(seller, admin_client):
    invoice = finalized_make()
    response = admin_client.get(f"/billing/invoices/{invoice.pk}/line-items/custom/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 403
    assert f"data-error-message>Invoice {invoice.number} is finalized: its lines cannot change.</p>" in html
    assert "role" not in html  # the reason is the document's state, not the user's role
    page = admin_client.get(f"/billing/invoices/{invoice.pk}/line-items/custom/").content.decode()
    assert "This can no longer be changed" in page and f"Invoice {invoice.number} is finalized" in page


def test_every_page_carries_the_message_box_failed_htmx_requests_fill(seller, admin_client):
    from pathlib import Path

    page = admin_client.get("/billing/invoices/").content.decode()
    assert 'id="request-error"' in page and 'data-reload="Reload the page"' in page
    assert 'data-409="This changed in the meantime, perhaps in another tab."' in page
    script = (Path(__file__).resolve().parents[2] / "static/js/app.js").read_text()
    assert 'addEventListener("htmx:responseError"' in script and "[data-error-message]" in script
