"""Concurrent refund requests never refund more than was captured: twenty people (or tabs) refunding 20.00 each of
a 242.00 payment at the same moment get twelve refunds; the others are refused with what is left."""

import re
from decimal import Decimal

from django.db.models import Sum
from django.test import Client

from billing.selectors.receivables import invoice_figures
from commerce_hub.accounts.models import Role, User
from payments.models import BalanceEntry, Refund
from payments.services.refunds import payment_refundable
from tests.concurrency import in_threads
from tests.payments.paying import open_invoice, pay

PASSWORD = "refund-race-pass-1"


def test_twenty_concurrent_partial_refunds_never_exceed_the_capture(django_db_setup, live_tenant):
    invoice = open_invoice()
    payment = pay(invoice)
    assert payment.amount == Decimal("242.00")
    User.objects.create_user(email="finn@live.example", password=PASSWORD, full_name="Finn Finance", role=Role.FINANCE)
    url = f"/payments/{payment.pk}/refund/"
    form = {"amount": "20.00", "mode": "reopen", "reason": "requested_by_customer", "note": ""}

    def refund(n):
        client = Client(HTTP_HOST="live.localhost")
        assert client.login(email="finn@live.example", password=PASSWORD)
        # Each request is its own confirmed form, with its own one-time key.
        response = client.post(url, form | {"confirm": "1", "idempotency_key": f"race-{n:02d}-" + "k" * 24})
        text = response.content.decode()
        error = re.search(r'<small class="field-error" id="id_amount_error">([^<]+)</small>', text)
        return response.status_code, error.group(1) if error else ""

    results = in_threads(20, refund)

    refused = [message for status, message in results if status == 400]
    assert sum(1 for status, _message in results if status == 302) == 12
    assert len(refused) == 8
    # Each refusal says what is left: a form that raced past the first check is stopped under the payment's lock.
    assert all(re.fullmatch(r"At most (€2\.00|2\.0000 EUR) is left to refund\.", m) for m in refused), refused
    refunds = Refund.objects.filter(payment=payment)
    assert refunds.count() == 12 and {r.status for r in refunds} == {"succeeded"}
    assert refunds.aggregate(s=Sum("amount"))["s"] == Decimal("240.00")
    assert payment_refundable(payment) == Decimal("2.00")
    assert invoice_figures(invoice).due == Decimal("240.00")
    processor = BalanceEntry.objects.filter(payment=payment, kind="refund").aggregate(s=Sum("amount"))["s"]
    assert processor == Decimal("-240.00")
