"""An invoice's hosted link: finance replaces a link that went astray, and links can stop working a set number of
days after the invoice is paid. A closed link says so and whom to ask; it never shows the invoice."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from billing.documents import invoice_settings_get
from billing.models import Invoice, InvoiceEvent, InvoiceLinkRevoked
from billing.services.invoice_links import invoice_link_regenerate
from billing.services.invoice_payments import invoice_record_payment
from billing.services.invoice_settings import hosted_link_settings_update
from commerce_hub.accounts.models import AuditEntry, Role
from tests.billing.invoicing import draft_make, finalized_make, key
from tests.conftest import user_make


def buyer() -> Client:
    return Client(HTTP_HOST="alpha.localhost")


def test_replacing_the_link_closes_the_old_one_with_a_page_that_says_whom_to_ask(tenant_alpha, admin_user):
    invoice = finalized_make(actor=admin_user)
    old = invoice.public_token
    assert buyer().get(f"/billing/i/{old}/").status_code == 200

    invoice = invoice_link_regenerate(invoice=invoice, actor=admin_user)

    assert invoice.public_token != old and len(invoice.public_token) == 43
    closed = buyer().get(f"/billing/i/{old}/")
    body = closed.content.decode()
    assert closed.status_code == 410
    assert (closed["Cache-Control"], closed["Referrer-Policy"]) == ("no-store", "no-referrer")
    assert "This link no longer works" in body and "Alpha Handel B.V. replaced the link to this invoice" in body
    assert "Consulting" not in body and "242" not in body  # nothing of the invoice itself
    assert buyer().get(f"/billing/i/{old}/pdf/").status_code == 410
    assert buyer().get(f"/payments/pay/{old}/").status_code == 404  # its payment page is gone too
    new = buyer().get(f"/billing/i/{invoice.public_token}/")
    assert new.status_code == 200 and "Consulting" in new.content.decode()
    assert InvoiceLinkRevoked.objects.get(token=old).revoked_by == admin_user
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="link_regenerated", actor=admin_user).count() == 1
    assert AuditEntry.objects.filter(action="invoice.link_regenerated", actor=admin_user).count() == 1


def test_a_draft_has_no_link_to_replace(tenant_alpha, admin_user):
    with pytest.raises(ValidationError) as refused:
        invoice_link_regenerate(invoice=draft_make(actor=admin_user), actor=admin_user)
    assert refused.value.messages == ["A draft has no link yet: it gets one when it is finalized."]
    assert not InvoiceLinkRevoked.objects.exists()


def test_finance_replaces_the_link_after_a_confirmation_and_a_double_submit_replaces_it_once(admin_client, admin_user):
    invoice = finalized_make(actor=admin_user)
    old = invoice.public_token
    page = admin_client.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert f'href="/billing/invoices/{invoice.pk}/link/replace/"' in page
    confirm = admin_client.get(f"/billing/invoices/{invoice.pk}/link/replace/")
    assert "Replace the buyer&#x27;s link?" in confirm.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).public_token == old  # asking is not doing

    form = key()
    first = admin_client.post(f"/billing/invoices/{invoice.pk}/link/replace/", form)
    again = admin_client.post(f"/billing/invoices/{invoice.pk}/link/replace/", form)
    assert first.status_code == again.status_code == 302
    assert InvoiceLinkRevoked.objects.filter(invoice=invoice).count() == 1


def test_only_who_edits_invoices_may_replace_a_link(tenant_alpha, admin_user):
    invoice = finalized_make(actor=admin_user)
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(Role.READ_ONLY))
    assert client.post(f"/billing/invoices/{invoice.pk}/link/replace/", key()).status_code == 403
    assert client.post(f"/billing/invoices/{invoice.pk + 1000}/link/replace/", key()).status_code == 403
    assert not InvoiceLinkRevoked.objects.exists()


def test_links_expire_the_set_number_of_days_after_payment(tenant_alpha, admin_user):
    hosted_link_settings_update(actor=admin_user, expiry_days=30)
    paid = finalized_make(actor=admin_user)
    invoice_record_payment(
        invoice=paid, amount=Decimal("242.00"), paid_on=timezone.localdate(), method="bank_transfer", actor=admin_user
    )
    unpaid = finalized_make(actor=admin_user)
    assert buyer().get(f"/billing/i/{paid.public_token}/").status_code == 200  # paid today: 30 days to go

    Invoice.objects.filter(pk=paid.pk).update(paid_at=timezone.now() - timedelta(days=30))
    expired = buyer().get(f"/billing/i/{paid.public_token}/")
    assert expired.status_code == 410 and "This link has expired" in expired.content.decode()
    assert buyer().get(f"/billing/i/{unpaid.public_token}/").status_code == 200  # an unpaid invoice stays open

    hosted_link_settings_update(actor=admin_user, expiry_days=None)
    assert buyer().get(f"/billing/i/{paid.public_token}/").status_code == 200


@pytest.mark.parametrize("days", [0, -1, 3651])
def test_an_absurd_expiry_is_refused_next_to_the_field(admin_client, days):
    response = admin_client.post("/billing/invoices/settings/", {"section": "links", "links-expiry_days": str(days)})
    assert response.status_code == 400
    assert invoice_settings_get().hosted_link_expiry_days is None


def test_the_settings_page_saves_the_expiry(admin_client):
    response = admin_client.post("/billing/invoices/settings/", {"section": "links", "links-expiry_days": "60"})
    assert response.status_code == 302 and response["Location"].endswith("#links")
    assert invoice_settings_get().hosted_link_expiry_days == 60


def test_a_forged_or_unknown_token_is_a_plain_404(tenant_alpha):
    for token in ("x" * 43, "not-a-token", "ü" * 43):
        assert buyer().get(f"/billing/i/{token}/").status_code == 404
