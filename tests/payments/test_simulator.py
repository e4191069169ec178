"""The built-in processor's simulated bank, wallet and card-confirmation pages: clearly test mode, CSRF-protected,
deciding once, and sending the buyer back only to this site."""

from decimal import Decimal

import pytest
from django.test import Client

from billing.selectors.receivables import invoice_figures
from payments.models import MethodKind, PaymentStatus, SimulatedObject
from tests.payments.checkout_helpers import buyer, only_payment, post
from tests.payments.paying import open_invoice, pay


def _ideal(client=None):
    invoice = open_invoice()
    response = post(client or buyer(), invoice, "ideal", {"bank": "ing"})
    return invoice, response["Location"]


def test_the_bank_page_is_clearly_a_test_and_never_cached(tenant_alpha):
    _invoice, url = _ideal()
    response = buyer().get(url)
    page = response.content.decode()
    assert response.status_code == 200
    assert (response["Cache-Control"], response["Referrer-Policy"]) == ("no-store", "no-referrer")
    assert "TEST MODE" in page and "A simulated bank page of the built-in test processor." in page
    assert "Pay to</dt><dd>Alpha Handel B.V." in page and "€242.00" in page
    assert 'name="decision" value="approve"' in page and 'name="decision" value="cancel"' in page


@pytest.mark.parametrize("object_id", ["bi_pay_0000", "x" * 61, "%00", "bi_pay_%27--", "Ä" * 10])
def test_unknown_and_forged_ids_are_not_found(tenant_alpha, object_id):
    _ideal()
    assert buyer().get(f"/payments/simulator/{object_id}/").status_code == 404
    assert buyer().post(f"/payments/simulator/{object_id}/", {"decision": "approve"}).status_code == 404


def test_another_tenant_cannot_open_the_page(tenant_alpha, tenant_bravo):
    _invoice, url = _ideal()
    assert buyer("bravo.localhost").get(url).status_code == 404


def test_a_decision_needs_the_pages_csrf_token(tenant_alpha):
    invoice, url = _ideal()
    client = Client(HTTP_HOST="alpha.localhost", enforce_csrf_checks=True)
    assert client.post(url, {"decision": "approve"}).status_code == 403
    assert only_payment(invoice).status == PaymentStatus.REQUIRES_ACTION
    client.get(url)  # sets the CSRF cookie, as the page does in a browser
    token = client.cookies["csrftoken"].value
    assert client.post(url, {"decision": "approve", "csrfmiddlewaretoken": "x" * 32}).status_code == 403
    evil = client.post(url, {"decision": "approve", "csrfmiddlewaretoken": token}, HTTP_ORIGIN="https://evil.example")
    assert evil.status_code == 403
    assert only_payment(invoice).status == PaymentStatus.REQUIRES_ACTION
    # The page's no-referrer policy makes browsers send "Origin: null"; with the right token that is this site.
    response = client.post(url, {"decision": "approve", "csrfmiddlewaretoken": token}, HTTP_ORIGIN="null")
    assert response.status_code == 302
    assert only_payment(invoice).status == PaymentStatus.SUCCEEDED


@pytest.mark.parametrize("decision", ["", "maybe", "APPROVE"])
def test_anything_but_approve_or_cancel_is_refused_with_a_message(tenant_alpha, decision):
    invoice, url = _ideal()
    response = buyer().post(url, {"decision": decision})
    assert response.status_code == 400
    assert "Choose approve or cancel." in response.content.decode()
    assert only_payment(invoice).status == PaymentStatus.REQUIRES_ACTION


def test_approving_records_the_payment_even_if_the_buyer_never_comes_back(tenant_alpha):
    invoice, url = _ideal()
    buyer().post(url, {"decision": "approve"})  # the buyer closes the tab here
    assert only_payment(invoice).status == PaymentStatus.SUCCEEDED
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_deciding_twice_keeps_the_first_decision_and_pays_once(tenant_alpha):
    invoice, url = _ideal()
    first = buyer().post(url, {"decision": "approve"})
    again = buyer().post(url, {"decision": "approve"})
    cancel = buyer().post(url, {"decision": "cancel"})
    assert first["Location"] == again["Location"]
    assert "redirect_status=succeeded" in cancel["Location"]
    assert only_payment(invoice).status == PaymentStatus.SUCCEEDED
    assert invoice_figures(invoice).paid == Decimal("242.00")
    page = buyer().get(url).content.decode()
    assert "You approved this payment." in page and "Return to the shop" in page
    assert 'name="decision"' not in page


def test_cancelling_in_the_wallet_fails_the_payment(tenant_alpha):
    invoice = open_invoice()
    url = post(buyer(), invoice, "vipps_mobilepay", {"phone": "+47 912 34 567"})["Location"]
    assert "Approve in the app" in buyer().get(url).content.decode()
    back = buyer().post(url, {"decision": "cancel"})
    assert "redirect_status=failed" in back["Location"]
    payment = only_payment(invoice)
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "canceled_by_buyer")
    invoice.refresh_from_db()
    assert invoice.status == "open"


def test_a_return_address_on_another_site_is_not_followed(tenant_alpha):
    invoice = open_invoice()
    payment = pay(invoice, method=MethodKind.IDEAL, data={"bank": "ing"}, return_url="https://evil.example/steal")
    url = f"/payments/simulator/{payment.processor_reference}/"
    response = buyer().post(url, {"decision": "approve"})
    assert response.status_code == 200
    assert "evil.example" not in response.content.decode()
    assert SimulatedObject.objects.get(object_id=payment.processor_reference).status == "succeeded"
