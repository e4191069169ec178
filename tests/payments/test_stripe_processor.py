"""The Stripe processor, with the real SDK against a local fake of Stripe's API: payments, declines, confirmation
steps, refunds, saved methods, lost answers resolved by asking, and the 24-hour limit of Stripe's idempotency."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.selectors.receivables import invoice_figures
from payments.models import BalanceEntry, MethodKind, Payment, PaymentStatus, RefundMode, RefundStatus
from payments.processors import PaymentRequest, ProcessorDeclined, ProcessorUnreachable
from payments.processors.stripe import StripeAmountError, StripeProcessor, from_minor, to_minor
from payments.services.payments import payment_cancel, payments_reconcile
from payments.services.refunds import refund_request, refunds_reconcile
from tests.payments.fake_stripe import fake_stripe, stripe_connect  # noqa: F401 - the fixture
from tests.payments.paying import open_invoice, pay

VISA = {"payment_method": "pm_card_visa"}


@pytest.fixture
def stripe_alpha(tenant_alpha, fake_stripe):  # noqa: F811
    stripe_connect(fake_stripe)
    return fake_stripe


def _intents(fake):
    return fake.all("payment_intent")


def test_card_payment_creates_one_payment_intent_and_books_stripes_fee(stripe_alpha):
    invoice = open_invoice()
    payment = pay(invoice, data=VISA)

    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.processor == "stripe"
    (intent,) = _intents(stripe_alpha)
    assert payment.processor_reference == intent["id"]
    # 242.00 EUR in cents, with the attempt's public id in the metadata a lost answer is found by.
    assert (intent["amount"], intent["currency"], intent["metadata"]["payment"]) == (24200, "eur", payment.public_id)
    # Stripe's 1.5% + 0.25: 363 + 25 cents.
    assert payment.fee == Decimal("3.88")
    assert payment.method_details == {"brand": "visa", "last4": "4242"}
    charge = stripe_alpha.charge_of(intent["id"])
    balance = stripe_alpha.get(charge["balance_transaction"])
    entries = {e.kind: (e.amount, e.available_on, e.external_id) for e in BalanceEntry.objects.filter(payment=payment)}
    available = datetime.fromtimestamp(balance["available_on"], tz=UTC).date()
    assert entries == {
        "charge": (Decimal("242.0000"), available, balance["id"]),
        "fee": (Decimal("-3.8800"), available, None),
    }
    invoice.refresh_from_db()
    assert invoice.status == "paid"


def test_the_attempts_idempotency_key_reaches_stripe(stripe_alpha):
    invoice = open_invoice()
    payment = pay(invoice, data=VISA)
    key = payment.processor_idempotency_key
    assert stripe_alpha.idempotency[key]["route"] == ("POST", "/v1/payment_intents")


def test_a_card_that_needs_3d_secure_waits_for_the_buyer_with_stripes_client_secret(stripe_alpha):
    invoice = open_invoice()
    payment = pay(invoice, data={"payment_method": "pm_card_authenticationRequired"})

    (intent,) = _intents(stripe_alpha)
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    assert payment.next_action == {"type": "stripe_sdk", "client_secret": intent["client_secret"]}
    invoice.refresh_from_db()
    assert invoice.status == "open"


def test_without_a_payment_method_the_checkout_confirms_with_stripe_js(stripe_alpha):
    invoice = open_invoice()
    payment = pay(invoice, data={})
    (intent,) = _intents(stripe_alpha)
    assert intent["status"] == "requires_payment_method"
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    assert payment.next_action["client_secret"] == intent["client_secret"]


@pytest.mark.parametrize(
    ("payment_method", "code", "message"),
    [
        ("pm_card_chargeDeclined", "generic_decline", "Your card was declined."),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds", "Your card has insufficient funds."),
    ],
)
def test_a_declined_card_fails_with_stripes_reason_and_leaves_the_invoice_open(
    stripe_alpha, payment_method, code, message
):
    invoice = open_invoice()
    payment = pay(invoice, data={"payment_method": payment_method})

    assert (payment.status, payment.failure_code, payment.failure_message) == (PaymentStatus.FAILED, code, message)
    invoice.refresh_from_db()
    assert invoice.status == "open"
    assert invoice_figures(invoice).paid == 0


def test_a_waiting_payment_is_cancelled_at_stripe(stripe_alpha):
    invoice = open_invoice()
    payment = pay(invoice, data={"payment_method": "pm_card_authenticationRequired"})
    payment = payment_cancel(payment=payment)
    assert payment.status == PaymentStatus.CANCELED
    assert stripe_alpha.get(payment.processor_reference)["status"] == "canceled"


def test_partial_refund_goes_to_stripe_with_its_own_key_and_reopens_the_balance(stripe_alpha, admin_user):
    invoice = open_invoice()
    payment = pay(invoice, data=VISA)
    refund = refund_request(payment=payment, amount="42.00", mode=RefundMode.REOPEN, actor=admin_user)

    assert refund.status == RefundStatus.SUCCEEDED
    (stripe_refund,) = stripe_alpha.all("refund")
    assert refund.processor_reference == stripe_refund["id"]
    assert (stripe_refund["amount"], stripe_refund["payment_intent"]) == (4200, payment.processor_reference)
    assert stripe_refund["metadata"] == {"idempotency_key": refund.processor_idempotency_key}
    assert stripe_alpha.idempotency[refund.processor_idempotency_key]["route"] == ("POST", "/v1/refunds")
    figures = invoice_figures(invoice)
    assert (figures.paid, figures.due) == (Decimal("200.00"), Decimal("42.00"))
    entry = BalanceEntry.objects.get(refund=refund)
    assert (entry.amount, entry.external_id) == (Decimal("-42.0000"), stripe_refund["balance_transaction"])


def test_a_retry_a_day_later_finds_the_payment_intent_instead_of_creating_another(stripe_alpha):
    invoice = open_invoice()
    payment = pay(invoice, data=VISA)
    request = PaymentRequest(
        idempotency_key=payment.processor_idempotency_key,
        amount=payment.amount,
        currency=payment.currency,
        method=MethodKind.CARD,
        description="Invoice",
        method_data=VISA,
        metadata={"payment": payment.public_id, "invoice": invoice.number},
    )
    # Stripe has forgotten the key (24 hours), and the attempt is 25 hours old.
    stripe_alpha.advance(25 * 3600)
    Payment.objects.filter(pk=payment.pk).update(called_at=timezone.now() - timedelta(hours=25))

    result = StripeProcessor.for_tenant().payment_create(request)

    assert result.reference == payment.processor_reference
    assert result.status == PaymentStatus.SUCCEEDED
    assert len(_intents(stripe_alpha)) == 1
    assert ("GET", "/v1/payment_intents/search") in stripe_alpha.calls


def test_a_retry_within_the_day_is_answered_by_stripes_idempotency(stripe_alpha):
    invoice = open_invoice()
    payment = pay(invoice, data=VISA)
    request = PaymentRequest(
        idempotency_key=payment.processor_idempotency_key,
        amount=payment.amount,
        currency=payment.currency,
        method=MethodKind.CARD,
        description=f"Invoice {invoice.number}",
        method_data=VISA,
        metadata={"payment": payment.public_id, "invoice": invoice.number or ""},
    )
    result = StripeProcessor.for_tenant().payment_create(request)
    assert result.reference == payment.processor_reference
    assert len(_intents(stripe_alpha)) == 1
    assert ("GET", "/v1/payment_intents/search") not in stripe_alpha.calls


def test_a_timeout_after_stripe_charged_is_reconciled_to_one_payment(stripe_alpha, settings):
    settings.STRIPE_TIMEOUT = 1
    stripe_alpha.fault("POST /v1/payment_intents", "delay", seconds=2)
    invoice = open_invoice()

    payment = pay(invoice, data=VISA)

    # No answer: the attempt stays open, the invoice unpaid, though Stripe charged.
    assert payment.status == PaymentStatus.CREATED
    assert payment.processor_reference is None
    assert payment.events.filter(kind="processor_unreachable").count() == 1
    (intent,) = _intents(stripe_alpha)
    assert intent["status"] == "succeeded"
    invoice.refresh_from_db()
    assert invoice.status == "open"

    assert payments_reconcile(now=timezone.now() + timedelta(minutes=3)) == 1

    payment.refresh_from_db()
    assert (payment.status, payment.processor_reference) == (PaymentStatus.SUCCEEDED, intent["id"])
    assert len(_intents(stripe_alpha)) == 1  # asked, never charged again
    assert invoice_figures(invoice).paid == Decimal("242.00")
    assert Payment.objects.filter(invoice=invoice, status=PaymentStatus.SUCCEEDED).count() == 1
    # Reconciling again changes nothing.
    assert payments_reconcile(now=timezone.now() + timedelta(minutes=6)) == 0
    assert invoice_figures(invoice).paid == Decimal("242.00")


def test_a_dropped_answer_is_recovered_by_the_sdks_retry_with_the_same_key(stripe_alpha, settings):
    settings.STRIPE_NETWORK_RETRIES = 2
    stripe_alpha.fault("POST /v1/payment_intents", "drop")
    invoice = open_invoice()

    payment = pay(invoice, data=VISA)

    assert payment.status == PaymentStatus.SUCCEEDED
    assert len(_intents(stripe_alpha)) == 1
    assert stripe_alpha.calls.count(("POST", "/v1/payment_intents")) == 2


def test_a_lost_answer_is_found_by_listing_when_search_has_not_caught_up(stripe_alpha):
    stripe_alpha.fault("POST /v1/payment_intents", "drop")
    invoice = open_invoice()
    payment = pay(invoice, data=VISA)
    assert payment.status == PaymentStatus.CREATED
    (intent,) = _intents(stripe_alpha)
    # Stripe's search lags behind writes; an empty search must not be read as "never charged".
    stripe_alpha.fault("GET /v1/payment_intents/search", "empty")

    result = StripeProcessor.for_tenant().payment_retrieve(idempotency_key=payment.processor_idempotency_key)

    assert (result.reference, result.status) == (intent["id"], PaymentStatus.SUCCEEDED)
    assert ("GET", "/v1/payment_intents") in stripe_alpha.calls


def test_an_attempt_stripe_never_saw_is_found_to_be_nothing(stripe_alpha):
    stripe_alpha.fault("POST /v1/payment_intents", "error")
    invoice = open_invoice()
    payment = pay(invoice, data=VISA)
    assert payment.status == PaymentStatus.CREATED
    assert _intents(stripe_alpha) == []

    payments_reconcile(now=timezone.now() + timedelta(minutes=3))

    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "not_received")


def test_a_refund_whose_answer_was_lost_is_found_by_its_key_not_made_twice(stripe_alpha, settings, admin_user):
    invoice = open_invoice()
    payment = pay(invoice, data=VISA)
    settings.STRIPE_TIMEOUT = 1
    stripe_alpha.fault("POST /v1/refunds", "delay", seconds=2)

    refund = refund_request(payment=payment, amount="42.00", mode=RefundMode.REOPEN, actor=admin_user)
    assert refund.status == RefundStatus.PENDING
    from payments.models import Refund

    Refund.objects.filter(pk=refund.pk).update(called_at=timezone.now() - timedelta(minutes=5))
    refunds_reconcile()

    refund.refresh_from_db()
    (stripe_refund,) = stripe_alpha.all("refund")
    assert (refund.status, refund.processor_reference) == (RefundStatus.SUCCEEDED, stripe_refund["id"])
    assert invoice_figures(invoice).due == Decimal("42.00")


def test_stripe_unreachable_or_failing_is_an_unknown_outcome(stripe_alpha):
    processor = StripeProcessor.for_tenant()
    stripe_alpha.fault("GET /v1/payment_intents/pi_missing0000", "error")
    with pytest.raises(ProcessorUnreachable):
        processor.payment_retrieve(reference="pi_missing0000")
    unreachable = StripeProcessor(secret_key=stripe_alpha.secret_key, api_base="http://127.0.0.1:9")
    with pytest.raises(ProcessorUnreachable):
        unreachable.payment_retrieve(reference="pi_missing0000")


def test_a_refused_key_or_a_missing_payment_intent_is_a_definite_answer(stripe_alpha):
    assert StripeProcessor.for_tenant().payment_retrieve(reference="pi_missing0000") is None
    with pytest.raises(ProcessorDeclined) as refused:
        StripeProcessor(secret_key="sk_test_wrong000000000000").payment_retrieve(reference="pi_missing0000")
    assert refused.value.code == "processor_credentials"


def test_saving_a_card_uses_a_setup_intent(stripe_alpha):
    processor = StripeProcessor.for_tenant()
    saved = processor.setup_create(
        idempotency_key="setup-1", method=MethodKind.CARD, method_data=VISA, customer_email="kari@fjordline.example"
    )
    assert (saved.reference, saved.status, saved.kind) == ("pm_card_visa", "succeeded", MethodKind.CARD)
    (setup,) = stripe_alpha.all("setup_intent")
    assert (setup["usage"], setup["status"]) == ("off_session", "succeeded")
    with pytest.raises(ProcessorDeclined):
        processor.setup_create(
            idempotency_key="setup-2",
            method=MethodKind.CARD,
            method_data={"payment_method": "pm_card_chargeDeclined"},
            customer_email="",
        )


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("242.00", "EUR", 24200),
        ("0.01", "USD", 1),
        ("1250", "NOK", 125000),
        ("500", "JPY", 500),  # zero-decimal: whole yen
        ("5", "ISK", 500),  # no decimals in ISO, two in Stripe's API (multiples of 100)
        ("1000", "HUF", 100000),
        ("5.120", "KWD", 5120),  # three decimals, the last one 0
    ],
)
def test_amounts_become_stripes_minor_units_and_back(amount, currency, minor):
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)


@pytest.mark.parametrize(("amount", "currency"), [("1.005", "EUR"), ("5.124", "KWD"), ("1.5", "JPY"), ("NaN", "EUR")])
def test_amounts_stripe_would_round_are_refused_not_rounded(amount, currency):
    with pytest.raises(StripeAmountError):
        to_minor(Decimal(amount), currency)


def test_a_zero_decimal_currency_is_charged_in_whole_units(stripe_alpha):
    processor = StripeProcessor.for_tenant()
    result = processor.payment_create(
        PaymentRequest(
            idempotency_key="jpy-1",
            amount=Decimal("5000"),
            currency="JPY",
            method=MethodKind.CARD,
            description="Invoice",
            method_data=VISA,
        )
    )
    (intent,) = _intents(stripe_alpha)
    assert (intent["amount"], intent["currency"]) == (5000, "jpy")
    assert (result.amount, result.currency) == (Decimal("5000"), "JPY")


def test_a_stripe_call_inside_a_transaction_is_refused(stripe_alpha):
    from django.db import transaction

    with transaction.atomic(), pytest.raises(RuntimeError, match="never called inside a database transaction"):
        StripeProcessor.for_tenant().payment_retrieve(reference="pi_x")
