"""The buyer's checkout: paying an invoice through the built-in processor by card, bank debit, iDEAL and Vipps
MobilePay, with the amount always the server's, one payment per form, and buyer pages that never leak."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from billing.documents import invoice_settings_get
from billing.selectors.receivables import invoice_figures
from commerce_hub.idempotency.services import key_new
from payments.models import Payment, PaymentStatus
from payments.processors.builtin import (
    CARD_AUTHENTICATION,
    CARD_DECLINED,
    CARD_INSUFFICIENT_FUNDS,
)
from payments.services.processor_events import builtin_tick_apply
from tests.payments.checkout_helpers import (
    CARD,
    EMAIL,
    buyer,
    checkout_url,
    deliver_checkout_emails,
    only_payment,
    pay_card,
    pay_sepa,
    post,
)
from tests.payments.paying import open_invoice

SETTLED = timedelta(days=4)  # the built-in processor settles debits after 3 days (PaymentSettings default)


def _follow(client, response):
    assert response.status_code == 302, response.content.decode()[:500]
    return client.get(response["Location"])


# --- the page -----------------------------------------------------------------------------------------------------


def test_checkout_shows_what_is_owed_the_methods_and_test_mode_without_caching(tenant_alpha):
    invoice = open_invoice()
    response = buyer().get(checkout_url(invoice))
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "Invoice INV-1001 from Alpha Handel B.V." in page
    assert "€242.00" in page and "Pay €242.00" in page
    assert "Consulting" in page  # the items, through billing's rendering of the snapshot
    assert "TEST MODE" in page and "4242 4242 4242 4242" in page and "4000 0000 0000 0002" in page
    for label in ("Card", "Vipps MobilePay", "SEPA Direct Debit", "iDEAL"):
        assert f"<summary>{label}</summary>" in page
    assert "ACH debit" not in page  # US dollars only
    # A proper SEPA Core mandate names the creditor and a reference that starts with the invoice number.
    assert "you authorise (A) Alpha Handel B.V. to send instructions to your bank" in page
    assert "A refund must be claimed within 8 weeks" in page
    assert 'name="mandate_reference" value="INV-1001-' in page
    assert page.count('name="idempotency_key"') == 4  # one key per form


def test_a_partly_paid_invoice_asks_only_for_its_balance(tenant_alpha, admin_user):
    from billing.services.invoice_payments import invoice_record_payment

    invoice = open_invoice()
    invoice_record_payment(
        invoice=invoice, amount=Decimal("42.00"), paid_on=timezone.localdate(), method="bank_transfer", actor=admin_user
    )
    page = buyer().get(checkout_url(invoice)).content.decode()
    assert "Pay €200.00" in page and "Left to pay of €242.00" in page
    response = pay_card(buyer(), invoice)
    assert only_payment(invoice).amount == Decimal("200.00")
    assert response.status_code == 302


def test_the_hosted_invoice_page_leads_to_the_checkout_and_keeps_the_bank_transfer(tenant_alpha):
    invoice = open_invoice()
    page = buyer().get(f"/billing/i/{invoice.public_token}/").content.decode()
    assert page.count(f'href="/payments/pay/{invoice.public_token}/"') == 2  # the Pay button and Pay online
    assert "Pay online" in page and "Pay by bank transfer" in page
    pay_card(buyer(), invoice)
    paid = buyer().get(f"/billing/i/{invoice.public_token}/").content.decode()
    assert "/payments/pay/" not in paid and "Paid. Thank you!" in paid


def test_the_checkout_speaks_the_invoice_language(tenant_alpha):
    invoice = open_invoice(language="nl")
    response = buyer().get(checkout_url(invoice), HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="nl"' in response.content.decode()


# --- cards --------------------------------------------------------------------------------------------------------


def test_paying_by_card_marks_the_invoice_paid_with_one_payment(tenant_alpha):
    invoice = open_invoice()
    client = buyer()
    response = pay_card(client, invoice)
    payment = only_payment(invoice)
    assert response["Location"] == f"/payments/pay/{invoice.public_token}/p/{payment.public_id}/"
    page = _follow(client, response).content.decode()
    assert "Payment successful" in page
    assert "Thank you! Alpha Handel B.V. received your payment of €242.00." in page
    assert "Visa •••• 4242" in page and payment.public_id in page
    assert f"A confirmation was sent to {EMAIL}." in page
    assert (payment.status, payment.amount, payment.currency) == (PaymentStatus.SUCCEEDED, Decimal("242.00"), "EUR")
    assert (payment.buyer_email, payment.buyer_name, payment.method_details) == (
        EMAIL,
        "Kari Nordmann",
        {"brand": "visa", "last4": "4242"},
    )
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert invoice_figures(invoice).paid == Decimal("242.00")
    again = buyer().get(checkout_url(invoice)).content.decode()
    assert "Paid, thank you!" in again and 'name="idempotency_key"' not in again


@pytest.mark.parametrize(
    ("number", "reason"),
    [(CARD_DECLINED, "The card was declined."), (CARD_INSUFFICIENT_FUNDS, "Insufficient funds.")],
)
def test_a_refused_card_shows_the_reason_and_a_fresh_form(tenant_alpha, number, reason):
    invoice = open_invoice()
    client = buyer()
    response = pay_card(client, invoice, number=number)
    page = _follow(client, response).content.decode()
    assert "Payment failed" in page and reason in page and "Nothing was charged." in page
    assert 'name="method" value="card"' in page and 'name="idempotency_key"' in page  # try again
    assert only_payment(invoice).status == PaymentStatus.FAILED
    invoice.refresh_from_db()
    assert invoice.status == "open"
    # The retry with the fresh form pays.
    _follow(client, pay_card(client, invoice))
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert sorted(Payment.objects.filter(invoice=invoice).values_list("status", flat=True)) == ["failed", "succeeded"]


def test_a_card_that_asks_for_confirmation_is_paid_after_the_buyer_approves(tenant_alpha):
    invoice = open_invoice()
    client = buyer()
    response = pay_card(client, invoice, number=CARD_AUTHENTICATION)
    payment = only_payment(invoice)
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    assert response["Location"] == f"/payments/simulator/{payment.processor_reference}/"
    simulator = client.get(response["Location"]).content.decode()
    assert "TEST MODE" in simulator and "3-D Secure" in simulator and "€242.00" in simulator
    back = client.post(response["Location"], {"decision": "approve"})
    assert back["Location"] == (
        f"http://alpha.localhost/payments/pay/{invoice.public_token}/return/"
        f"?payment_intent={payment.processor_reference}&redirect_status=succeeded"
    )
    returned = client.get(back["Location"])
    assert returned["Location"] == f"/payments/pay/{invoice.public_token}/p/{payment.public_id}/"
    assert "Payment successful" in _follow(client, returned).content.decode()
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert Payment.objects.filter(invoice=invoice).count() == 1


# --- bank redirects and wallets -----------------------------------------------------------------------------------


def test_ideal_approved_at_the_bank_pays_the_invoice(tenant_alpha):
    invoice = open_invoice()
    client = buyer()
    response = post(client, invoice, "ideal", {"bank": "ing"})
    payment = only_payment(invoice)
    bank = client.get(response["Location"]).content.decode()
    assert "iDEAL · ING" in bank and "Approve this payment" in bank
    page = _follow(client, client.get(client.post(response["Location"], {"decision": "approve"})["Location"]))
    assert "Payment successful" in page.content.decode() and "iDEAL (ING)" in page.content.decode()
    payment.refresh_from_db()
    assert (payment.status, payment.buyer_name) == (PaymentStatus.SUCCEEDED, "Kari Nordmann")  # the contact
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_ideal_cancelled_at_the_bank_leaves_the_invoice_open_with_a_fresh_form(tenant_alpha):
    invoice = open_invoice()
    client = buyer()
    response = post(client, invoice, "ideal", {"bank": "rabobank"})
    page = _follow(client, client.get(client.post(response["Location"], {"decision": "cancel"})["Location"]))
    body = page.content.decode()
    assert "Payment failed" in body and "The payment was cancelled." in body
    assert 'name="method" value="ideal"' in body
    assert only_payment(invoice).status == PaymentStatus.FAILED
    invoice.refresh_from_db()
    assert invoice.status == "open"


def test_vipps_mobilepay_approved_in_the_app_pays_a_krone_invoice(tenant_alpha):
    invoice = open_invoice(currency="NOK")
    client = buyer()
    page = client.get(checkout_url(invoice)).content.decode()
    assert "<summary>Vipps MobilePay</summary>" in page and "<summary>iDEAL</summary>" not in page
    response = post(client, invoice, "vipps_mobilepay", {"phone": "912 34 567"})
    wallet = client.get(response["Location"]).content.decode()
    assert "Vipps MobilePay" in wallet and "Approve in the app" in wallet and "NOK242.00" in wallet
    _follow(client, client.get(client.post(response["Location"], {"decision": "approve"})["Location"]))
    payment = only_payment(invoice)
    assert (payment.status, payment.amount, payment.currency) == (PaymentStatus.SUCCEEDED, Decimal("242.00"), "NOK")
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_a_payment_waiting_for_the_bank_can_be_continued_or_cancelled(tenant_alpha):
    invoice = open_invoice()
    client = buyer()
    response = post(client, invoice, "ideal", {"bank": "ing"})
    payment = only_payment(invoice)
    page = client.get(checkout_url(invoice)).content.decode()
    assert "Finish your payment" in page and f'href="{response["Location"]}"' in page
    assert 'name="idempotency_key"' not in page  # no second payment while one is waiting
    cancelled = client.post(f"/payments/pay/{invoice.public_token}/p/{payment.public_id}/cancel/")
    assert cancelled["Location"] == checkout_url(invoice)
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELED
    assert 'name="method" value="card"' in client.get(checkout_url(invoice)).content.decode()


# --- bank debits --------------------------------------------------------------------------------------------------


def test_a_sepa_debit_processes_without_paying_the_invoice_until_it_settles(tenant_alpha):
    invoice = open_invoice()
    client = buyer()
    response = pay_sepa(client, invoice)
    payment = only_payment(invoice)
    page = _follow(client, response).content.decode()
    assert "Your bank debit is processing" in page and "We'll email you when it has settled" in page
    assert "SEPA Direct Debit •••• 4300" in page
    assert payment.method_details["mandate_reference"].startswith("INV-1001-")
    assert payment.method_details["mandate_reference"] in page
    assert payment.status == PaymentStatus.PROCESSING
    invoice.refresh_from_db()
    assert invoice.status == "open"  # never paid while processing
    assert "Your bank debit is processing" in client.get(checkout_url(invoice)).content.decode()

    assert builtin_tick_apply(now=timezone.now() + timedelta(days=1)) == 0  # not due yet
    assert builtin_tick_apply(now=timezone.now() + SETTLED) == 1
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.status, invoice.status) == (PaymentStatus.SUCCEEDED, "paid")
    assert "Payment successful" in client.get(response["Location"]).content.decode()


def test_a_sepa_debit_from_a_failing_account_fails_when_it_settles(tenant_alpha):
    invoice = open_invoice()
    client = buyer()
    response = pay_sepa(client, invoice, iban="NL18 RABO 0123 4598 76")
    assert only_payment(invoice).status == PaymentStatus.PROCESSING
    builtin_tick_apply(now=timezone.now() + SETTLED)
    payment = only_payment(invoice)
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "debit_failed")
    invoice.refresh_from_db()
    assert invoice.status == "open"
    page = client.get(response["Location"]).content.decode()
    assert "Payment failed" in page and "The bank refused the debit." in page
    assert 'name="method" value="sepa_debit"' in page


def test_an_ach_debit_processes_for_a_dollar_invoice(tenant_alpha):
    invoice = open_invoice(currency="USD")
    client = buyer()
    page = client.get(checkout_url(invoice)).content.decode()
    assert "<summary>ACH debit</summary>" in page and "SEPA Direct Debit" not in page
    assert "you authorize Alpha Handel B.V. to debit the bank account entered above once, for US$242.00" in page
    data = {"name": "Kari Nordmann", "routing_number": "110000000", "account_number": "000123456789"}
    response = post(client, invoice, "ach_debit", {**data, "account_type": "checking", "mandate_accepted": "on"})
    assert "Your bank debit is processing" in _follow(client, response).content.decode()
    payment = only_payment(invoice)
    assert (payment.status, payment.method_details) == (
        PaymentStatus.PROCESSING,
        {"account_last4": "6789", "routing_number": "110000000"},
    )


# --- bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "data", "field", "message"),
    [
        ("card", {**CARD, "number": "4242 4242 4242 4241"}, "number", "This card number is not valid."),
        ("card", {**CARD, "number": "abc"}, "number", "This card number is not valid."),
        ("card", {**CARD, "expiry": "13/30"}, "expiry", "The month must be between 01 and 12."),
        ("card", {**CARD, "expiry": "01/20"}, "expiry", "This card has expired."),
        ("card", {**CARD, "expiry": "soon"}, "expiry", "Enter the expiry date as MM/YY"),
        ("card", {**CARD, "cvc": "12"}, "cvc", "The security code is the 3 or 4 digits on your card."),
        ("card", {**CARD, "name": ""}, "name", "This field is required."),
        ("card", {**CARD, "name": "Ø" * 5000}, "name", "Ensure this value has at most 200 characters"),
        ("card", {**CARD, "email": "not-an-email"}, "email", "Enter a valid email address."),
        ("sepa_debit", {"name": "Kari", "iban": "NL00 ABNA 0000 0000 00"}, "iban", "This IBAN is not valid."),
        ("sepa_debit", {"name": "Kari", "iban": "ÄÖ☃ 1234"}, "iban", "This IBAN is not valid."),
        ("sepa_debit", {"name": "Kari", "iban": "NL91\x00ABNA"}, "iban", "Null characters are not allowed."),
        ("sepa_debit", {"name": "Kari", "iban": "NL91ABNA0417164300"}, "mandate_accepted", "Accept the mandate"),
        ("ideal", {"bank": "bank_of_nowhere"}, "bank", "Select a valid choice."),
        (
            "vipps_mobilepay",
            {"phone": "+1 202 555 0123"},
            "phone",
            "Vipps MobilePay works with Norwegian, Danish and Finnish",
        ),
        ("vipps_mobilepay", {"phone": "call me"}, "phone", "Enter a mobile number"),
    ],
)
def test_bad_input_is_answered_next_to_its_field_and_nothing_is_charged(tenant_alpha, method, data, field, message):
    invoice = open_invoice()
    response = post(buyer(), invoice, method, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert f'id="id_{method}_{field}_error">{message}' in page.replace("&#x27;", "'")
    assert Payment.objects.filter(invoice=invoice).count() == 0


def test_the_card_number_and_security_code_are_not_kept(tenant_alpha):
    invoice = open_invoice()
    page = post(buyer(), invoice, "card", {**CARD, "expiry": "01/20"}).content.decode()
    assert 'name="cvc"' in page and 'value="123"' not in page  # the code is asked for again
    pay_card(buyer(), invoice)
    from payments.models import PaymentEvent, SimulatedObject

    stored = repr(list(Payment.objects.values())) + repr(list(PaymentEvent.objects.values()))
    stored += repr(list(SimulatedObject.objects.values()))
    assert "4242424242424242" not in stored and "'123'" not in stored


@pytest.mark.parametrize(
    "fields",
    [
        {"method": "bitcoin"},
        {"method": "ach_debit"},  # offered for dollars only
        {"method": ""},
        {},
    ],
)
def test_a_method_the_invoice_does_not_offer_is_refused(tenant_alpha, fields):
    invoice = open_invoice()
    response = buyer().post(checkout_url(invoice), {**fields, "idempotency_key": key_new()})
    assert response.status_code == 400
    assert "Choose one of the payment methods offered." in response.content.decode()
    assert Payment.objects.count() == 0


def test_a_browser_post_from_the_no_referrer_page_passes_the_csrf_check_with_its_token(tenant_alpha):
    from django.test import Client

    invoice = open_invoice()
    client = Client(HTTP_HOST="alpha.localhost", enforce_csrf_checks=True)
    client.get(checkout_url(invoice))
    fields = {"method": "card", "email": EMAIL, "idempotency_key": key_new(), **CARD}
    assert client.post(checkout_url(invoice), fields, HTTP_ORIGIN="null").status_code == 403  # no token
    token = {"csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    foreign = client.post(checkout_url(invoice), {**fields, **token}, HTTP_ORIGIN="https://evil.example")
    assert foreign.status_code == 403
    assert Payment.objects.count() == 0
    response = client.post(checkout_url(invoice), {**fields, **token}, HTTP_ORIGIN="null")
    assert response.status_code == 302
    assert only_payment(invoice).status == PaymentStatus.SUCCEEDED


def test_a_form_without_its_one_time_key_charges_nothing(tenant_alpha):
    invoice = open_invoice()
    response = buyer().post(checkout_url(invoice), {"method": "card", "email": EMAIL, **CARD})
    assert response.status_code == 400
    assert "This form was sent without its one-time key, so nothing was done." in response.content.decode()
    assert Payment.objects.count() == 0


def test_a_tampered_amount_or_currency_is_ignored(tenant_alpha):
    invoice = open_invoice()
    pay_card(buyer(), invoice, amount="0.01", currency="USD", total="0.01", amount_due="1")
    payment = only_payment(invoice)
    assert (payment.amount, payment.currency) == (Decimal("242.00"), "EUR")
    assert invoice_figures(invoice).paid == Decimal("242.00")


def test_the_same_form_sent_twice_makes_one_payment(tenant_alpha):
    invoice = open_invoice()
    key = key_new()
    first = pay_card(buyer(), invoice, key=key)
    second = pay_card(buyer(), invoice, key=key)  # a replayed post, from another browser even
    assert first["Location"] == second["Location"]
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert invoice_figures(invoice).paid == Decimal("242.00")


def test_a_second_tab_cannot_pay_while_a_debit_is_processing(tenant_alpha):
    invoice = open_invoice()
    pay_sepa(buyer(), invoice)
    page = pay_card(buyer(), invoice).content.decode()
    assert "Your bank debit is processing" in page
    assert Payment.objects.filter(invoice=invoice).count() == 1


# --- other tenants and forged links -------------------------------------------------------------------------------


def test_another_tenants_invoice_token_is_not_found(tenant_alpha, tenant_bravo):
    invoice = open_invoice()
    other = buyer("bravo.localhost")
    assert other.get(checkout_url(invoice)).status_code == 404
    assert pay_card(other, invoice).status_code == 404
    assert Payment.objects.count() == 0


def test_forged_and_foreign_payment_ids_are_not_found(tenant_alpha):
    invoice = open_invoice()
    other_invoice = open_invoice()
    pay_card(buyer(), other_invoice)
    foreign = only_payment(other_invoice)
    base = f"/payments/pay/{invoice.public_token}/p"
    for public_id in (foreign.public_id, "pay_forged", "x" * 300, "%00", "pay_%00x", "Ä" * 20):
        assert buyer().get(f"{base}/{public_id}/").status_code == 404
    assert buyer().post(f"{base}/{foreign.public_id}/cancel/").status_code == 404
    assert buyer().get(f"/payments/pay/{'x' * 43}/").status_code == 404
    # A processor id that is not one of this invoice's payments leads back to the checkout, never to another's.
    returned = buyer().get(f"/payments/pay/{invoice.public_token}/return/?payment_intent={foreign.processor_reference}")
    assert returned["Location"] == checkout_url(invoice)
    for forged in ("%00", "x" * 500, "bi_pay_%27%3B--"):
        assert buyer().get(f"/payments/pay/{invoice.public_token}/return/?payment_intent={forged}")["Location"] == (
            checkout_url(invoice)
        )


def test_void_and_paid_invoices_show_their_state_instead_of_the_form(tenant_alpha, admin_user):
    from billing.services.invoice_payments import invoice_void

    invoice = open_invoice()
    invoice_void(invoice=invoice, reason="Duplicate", actor=admin_user)
    page = buyer().get(checkout_url(invoice)).content.decode()
    assert "This invoice was cancelled" in page and 'name="idempotency_key"' not in page
    response = pay_card(buyer(), invoice)
    assert "This invoice was cancelled" in response.content.decode()
    assert Payment.objects.count() == 0


# --- emails -------------------------------------------------------------------------------------------------------


def test_a_card_payment_tells_the_seller_once_and_the_buyer_gets_the_receipt(tenant_alpha, admin_user):
    settings = invoice_settings_get()
    settings.email = "billing@alpha.example"
    settings.save(update_fields=["email"])
    invoice = open_invoice()
    pay_card(buyer(), invoice)
    deliver_checkout_emails()
    deliver_checkout_emails()  # a delivery found again sends nothing more
    # The buyer's confirmation is the receipt email (one email, with the PDF), sent by the receipt handler.
    assert [(m.to[0], m.subject) for m in mail.outbox] == [
        ("billing@alpha.example", "Payment received: €242.00 for invoice INV-1001 from Kari Nordmann"),
    ]
    (notice,) = mail.outbox
    assert "Processing fee: €3.64" in notice.body and "Net: €238.36" in notice.body
    assert f"/billing/invoices/{invoice.pk}/" in notice.body


def test_without_a_reply_to_address_the_admins_are_told(tenant_alpha, admin_user):
    invoice = open_invoice()
    pay_card(buyer(), invoice)
    deliver_checkout_emails()
    assert [m.to[0] for m in mail.outbox] == [admin_user.email]


def test_a_handler_run_twice_for_one_delivery_queues_its_emails_once(tenant_alpha, admin_user):
    from commerce_hub.events.models import Delivery, OutgoingEmail
    from payments.handlers import checkout_succeeded_emails

    invoice = open_invoice()
    pay_card(buyer(), invoice)
    delivery = Delivery.objects.select_related("event").get(handler="payments.checkout_succeeded_emails")
    checkout_succeeded_emails(delivery.event, delivery_id=delivery.pk)
    checkout_succeeded_emails(delivery.event, delivery_id=delivery.pk)  # a worker that died before recording
    assert OutgoingEmail.objects.count() == 1  # the one admin


def test_a_debit_emails_the_buyer_when_it_processes_and_when_it_settles(tenant_alpha, admin_user):
    invoice = open_invoice()
    pay_sepa(buyer(), invoice)
    deliver_checkout_emails()
    (processing,) = mail.outbox
    payment = only_payment(invoice)
    assert processing.to == [EMAIL]
    assert processing.subject == "Your bank debit for invoice INV-1001 from Alpha Handel B.V. is processing"
    assert "Alpha Handel B.V. will collect €242.00 for invoice INV-1001 from your bank account" in processing.body
    assert f"Mandate reference: {payment.method_details['mandate_reference']}" in processing.body
    builtin_tick_apply(now=timezone.now() + SETTLED)
    deliver_checkout_emails()
    # Settled: the seller is told; the buyer's confirmation is the receipt email (tests/payments/test_receipts.py).
    assert [m.subject for m in mail.outbox[1:]] == [
        "Payment received: €242.00 for invoice INV-1001 from Kari Nordmann",
    ]


def test_a_failed_debit_emails_the_buyer_the_link_to_pay_again(tenant_alpha):
    invoice = open_invoice()
    pay_sepa(buyer(), invoice, iban="NL18RABO0123459876")
    builtin_tick_apply(now=timezone.now() + SETTLED)
    deliver_checkout_emails()
    assert sorted(m.subject for m in mail.outbox) == [
        "Your bank debit for invoice INV-1001 failed",
        "Your bank debit for invoice INV-1001 from Alpha Handel B.V. is processing",
    ]
    failed = next(m for m in mail.outbox if m.subject.endswith("failed"))
    assert "Reason: The bank refused the debit." in failed.body
    assert f"http://alpha.localhost:8000/payments/pay/{invoice.public_token}/\n" in failed.body


def test_a_declined_card_sends_no_email(tenant_alpha):
    invoice = open_invoice()
    pay_card(buyer(), invoice, number=CARD_DECLINED)
    deliver_checkout_emails()
    assert mail.outbox == []
