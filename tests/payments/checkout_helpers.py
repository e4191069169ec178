"""Driving the buyer's checkout through HTTP, as a browser without JavaScript would (alpha tenant)."""

import re

from django.test import Client

from commerce_hub.events.models import Delivery, OutgoingEmail
from commerce_hub.events.services import delivery_run
from commerce_hub.idempotency.services import key_new
from commerce_hub.mail import email_deliver
from payments.models import Payment
from payments.processors.builtin import CARD_SUCCESS

CARD = {"name": "Kari Nordmann", "number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123"}
SEPA_IBAN = "NL91 ABNA 0417 1643 00"
EMAIL = "kari@fjordline.example"
CHECKOUT_HANDLERS = (
    "payments.checkout_succeeded_emails",
    "payments.checkout_processing_email",
    "payments.checkout_failed_email",
)


def buyer(host: str = "alpha.localhost") -> Client:
    return Client(HTTP_HOST=host)


def checkout_url(invoice) -> str:
    return f"/payments/pay/{invoice.public_token}/"


def mandate_reference(page: str) -> str:
    return re.search(r'name="mandate_reference" value="([^"]+)"', page).group(1)


def post(client, invoice, method: str, data: dict | None = None, *, key: str | None = None, **extra):
    """One checkout form, sent with a fresh one-time key unless one is given."""
    fields = {"method": method, "email": EMAIL, "idempotency_key": key or key_new(), **(data or {})}
    return client.post(checkout_url(invoice), fields, **extra)


def pay_card(client, invoice, number: str = CARD_SUCCESS, *, key: str | None = None, **fields):
    return post(client, invoice, "card", {**CARD, "number": number, **fields}, key=key)


def pay_sepa(client, invoice, iban: str = SEPA_IBAN):
    page = client.get(checkout_url(invoice)).content.decode()
    data = {
        "name": "Kari Nordmann",
        "iban": iban,
        "mandate_reference": mandate_reference(page),
        "mandate_accepted": "on",
    }
    return post(client, invoice, "sepa_debit", data)


def only_payment(invoice) -> Payment:
    (payment,) = Payment.objects.filter(invoice=invoice)
    return payment


def deliver_checkout_emails() -> list[int]:
    """Run the checkout's email handlers for every pending delivery, then send what they queued: the work the
    worker does after commit (the test's transaction never commits). Returns the emails sent now."""
    for delivery in Delivery.objects.filter(handler__in=CHECKOUT_HANDLERS, status=Delivery.Status.PENDING):
        delivery_run(delivery_id=delivery.pk, force=True)
    sent = []
    for email in OutgoingEmail.objects.filter(sent_at__isnull=True).order_by("pk"):
        if email_deliver(email_id=email.pk):
            sent.append(email.pk)
    return sent
