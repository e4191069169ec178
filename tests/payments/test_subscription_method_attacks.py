"""Hostile input on the buyer's payment method page of a past-due subscription: NUL bytes, 10 MB fields, a replayed
form and a canceled subscription never give a 500 and never charge an invoice twice or one that is paid."""

import pytest

from billing.models import InvoiceStatus, SubscriptionStatus
from payments.models import Payment, PaymentStatus, SavedPaymentMethod
from payments.processors.builtin import CARD_DECLINED
from tests.payments.checkout_helpers import CARD, buyer
from tests.payments.test_subscription_method_page import page_url, past_due, post_card  # noqa: F401

GOOD = "4242424242424242"


@pytest.mark.parametrize("field", ["number", "email", "name", "expiry", "cvc", "idempotency_key"])
@pytest.mark.parametrize("value", ["42\x0042", "9" * (10 * 1024 * 1024)])
def test_nul_bytes_and_huge_fields_save_and_charge_nothing(past_due, field, value):  # noqa: F811
    subscription, _invoice = past_due
    payments = Payment.objects.count()
    data = {**CARD, "number": GOOD, "email": "kari@fjordline.example", "idempotency_key": "k" * 32, field: value}
    response = buyer().post(page_url(subscription), data)
    assert response.status_code in (200, 400, 413, 422)
    assert Payment.objects.count() == payments


@pytest.mark.parametrize("query", ["?updated=\x00", "?updated=" + "1" * 5000])
def test_odd_query_strings_show_the_page(past_due, query):  # noqa: F811
    subscription, _invoice = past_due
    assert buyer().get(page_url(subscription) + query).status_code == 200


def test_a_replayed_form_charges_a_paid_invoice_no_more(past_due):  # noqa: F811
    subscription, invoice = past_due
    client = buyer()
    assert post_card(subscription, GOOD, key="replay-key-000000000000000", client=client).status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    succeeded = Payment.objects.filter(invoice=invoice, status=PaymentStatus.SUCCEEDED).count()
    assert succeeded == 1
    post_card(subscription, GOOD, key="replay-key-000000000000000", client=client)
    post_card(subscription, GOOD, client=client)
    assert Payment.objects.filter(invoice=invoice, status=PaymentStatus.SUCCEEDED).count() == 1


def test_a_canceled_subscription_takes_no_card(past_due):  # noqa: F811
    subscription, _invoice = past_due
    type(subscription).objects.filter(pk=subscription.pk).update(status=SubscriptionStatus.CANCELED)
    saved = SavedPaymentMethod.objects.count()
    response = post_card(subscription, GOOD)
    assert response.status_code == 400
    assert SavedPaymentMethod.objects.count() == saved


def test_a_declined_card_twice_is_two_attempts_never_a_charge(past_due):  # noqa: F811
    subscription, invoice = past_due
    post_card(subscription, CARD_DECLINED)
    post_card(subscription, CARD_DECLINED)
    assert not Payment.objects.filter(invoice=invoice, status=PaymentStatus.SUCCEEDED).exists()
