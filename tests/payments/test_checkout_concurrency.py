"""A double click that really is concurrent: the same checkout form posted by two threads at the same moment, each
with its own connection and committed data, makes one payment and shows both requests that one payment."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from django.db import connection
from django.test import Client

from billing.selectors.receivables import invoice_figures
from commerce_hub.idempotency.services import key_new
from payments.models import Payment, PaymentStatus
from tests.payments.checkout_helpers import CARD, EMAIL
from tests.payments.paying import CARD as CARD_DATA
from tests.payments.paying import open_invoice


def _post_at_once(count: int, url: str, fields: dict) -> list:
    start = threading.Barrier(count)

    def run(_n):
        try:
            client = Client(HTTP_HOST="live.localhost")
            start.wait(10)
            return client.post(url, fields)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_the_same_form_posted_twice_at_once_makes_one_payment(django_db_setup, live_tenant):
    invoice = open_invoice()
    fields = {"method": "card", "email": EMAIL, "idempotency_key": key_new(), **CARD}
    responses = _post_at_once(2, f"/payments/pay/{invoice.public_token}/", fields)

    (payment,) = Payment.objects.filter(invoice=invoice)
    assert payment.status == PaymentStatus.SUCCEEDED
    expected = f"/payments/pay/{invoice.public_token}/p/{payment.public_id}/"
    assert [(r.status_code, r["Location"]) for r in responses] == [(302, expected), (302, expected)]
    assert invoice_figures(invoice).paid == Decimal("242.00")


def test_two_tabs_posting_at_once_make_one_payment(django_db_setup, live_tenant):
    invoice = open_invoice()
    url = f"/payments/pay/{invoice.public_token}/"
    start = threading.Barrier(2)

    def run(_n):
        try:
            start.wait(10)
            # Each tab rendered its own form, so each has its own key.
            fields = {"method": "card", "email": EMAIL, "idempotency_key": key_new(), **CARD}
            return Client(HTTP_HOST="live.localhost").post(url, fields)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(run, range(2)))

    (payment,) = Payment.objects.filter(invoice=invoice)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert sorted(r.status_code for r in responses) == [200, 302]
    refused = next(r for r in responses if r.status_code == 200).content.decode()
    assert "Paid, thank you!" in refused or "already in progress" in refused
    assert invoice_figures(invoice).paid == Decimal("242.00")


def test_payment_start_with_one_key_at_once_returns_one_payment(django_db_setup, live_tenant):
    from payments.services.payments import payment_start

    invoice = open_invoice()
    key = f"checkout-{key_new()}"
    start = threading.Barrier(2)

    def run(_n):
        try:
            from django_tenants.utils import schema_context

            with schema_context("t_live"):
                start.wait(10)
                return payment_start(
                    invoice=invoice, attempt_key=key, method="card", method_data=dict(CARD_DATA), buyer_email=EMAIL
                ).pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        first, second = pool.map(run, range(2))
    assert first == second == Payment.objects.get(invoice=invoice).pk
