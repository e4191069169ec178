"""Automatic collection and dunning, end to end with the built-in processor: the collector charges a subscription
invoice with its saved card, a declined charge goes to dunning, the retry job charges again on the schedule (a new
attempt key each time, never the same attempt twice), every other way of paying stops the retries, and the last
retry cancels the subscription or leaves it past due.

The worker's part is played by hand, as in the other payment tests: payment_process for an off-session attempt, and
the event handlers (run_handlers). Time is the test's: django.utils.timezone.now is set by the `clock` fixture."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest

from billing.models import DunningStatus, InvoiceDunning, InvoiceStatus, SubscriptionStatus
from billing.selectors.receivables import invoice_figures
from billing.services.subscription_dunning import dunning_retries_run
from billing.subscription_collection import subscription_invoices_collect
from payments.models import MethodKind, Payment, PaymentStatus, SimulatedObject
from payments.processors import PaymentRequest
from payments.processors.builtin import CARD_INSUFFICIENT_FUNDS, CARD_SUCCESS, BuiltinProcessor
from payments.services.payments import payment_process, payments_reconcile
from payments.services.saved_methods import payment_method_save
from payments.services.subscription_charges import subscription_invoices_retry
from tests.billing.quote_paying import run_handlers
from tests.billing.subscription_dunning_data import (
    emails_to,
    settings_set,
    subscription_invoice_make,
    subscription_make,
)
from tests.payments.checkout_helpers import buyer, pay_card

T0 = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # the billing run's charge: 10:30 in Amsterdam
KARI = "kari@fjordline.example"
HANDLERS = ("payments.subscription_payment_failed", "billing.dunning_on_invoice_paid")


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self):
        return self.now

    def to(self, moment: datetime) -> None:
        self.now = moment


@pytest.fixture
def clock():
    clock = Clock(T0)
    with mock.patch("django.utils.timezone.now", clock):
        yield clock


def card_saved(number: str, key: str = "setup-1"):
    return payment_method_save(
        company_id=None, contact_id=None, method=MethodKind.CARD, method_data={"number": number}, attempt_key=key
    )


def card_now_behaves_as(saved, number: str) -> None:
    """The bank's answer for the saved card changes (the buyer's account is topped up, say)."""
    obj = SimulatedObject.objects.get(object_id=saved.processor_reference)
    SimulatedObject.objects.filter(pk=obj.pk).update(data={**obj.data, "number": number})


def work() -> None:
    """What the worker does after commit: charge the attempts waiting, then deliver their events."""
    for payment in Payment.objects.filter(status=PaymentStatus.CREATED, off_session=True, called_at__isnull=True):
        payment_process(payment_id=payment.pk)
    run_handlers(*HANDLERS)


def attempts(invoice) -> list[tuple[str, str, Decimal]]:
    payments = Payment.objects.filter(invoice=invoice).order_by("created_at", "pk")
    return [(p.attempt_key, p.status, p.amount) for p in payments]


def key(invoice, n: int) -> str:
    return f"subscription-invoice-{invoice.pk}-try-{n}"


@pytest.fixture
def declining(tenant_alpha, clock):
    """A subscription whose saved card has insufficient funds, and its open December invoice (EUR 242.00)."""
    settings_set(retry_days=(1, 3, 5, 7), after_final_retry="cancel")
    saved = card_saved(CARD_INSUFFICIENT_FUNDS)
    subscription = subscription_make(method_ref=saved.processor_reference)
    invoice = subscription_invoice_make(subscription)
    return subscription, invoice, saved


# --- the golden case --------------------------------------------------------------------------------------------------


def test_a_failed_charge_that_recovers_on_the_second_retry(declining, clock):
    subscription, invoice, saved = declining

    # The billing run hands the invoice over; the charge is declined.
    subscription_invoices_collect(invoice_ids=[invoice.pk])
    work()
    dunning = InvoiceDunning.objects.get(invoice=invoice)
    assert (dunning.failures, dunning.next_retry_at, dunning.last_error) == (
        1,
        T0 + timedelta(days=1),
        "Insufficient funds.",
    )
    subscription.refresh_from_db()
    assert (subscription.status, subscription.past_due_since) == (SubscriptionStatus.PAST_DUE, T0)
    (email,) = emails_to(KARI)
    assert email.subject == "Your payment for Hosting (monthly) failed"
    assert "Reason: There was not enough money on the card or account." in email.text
    assert f"/payments/pay/subscription/{subscription.public_token}/" in email.text

    # Nothing is due before the first retry's time.
    clock.to(T0 + timedelta(hours=23))
    assert dunning_retries_run() == 0

    # The first retry, a day later: declined again; the next one is three days after the first failure.
    clock.to(T0 + timedelta(days=1, minutes=7))
    assert dunning_retries_run() == 1
    work()
    dunning.refresh_from_db()
    assert (dunning.failures, dunning.next_retry_at) == (2, T0 + timedelta(days=3))

    # Money arrives on the account; the second retry succeeds and the subscription is active again.
    card_now_behaves_as(saved, CARD_SUCCESS)
    clock.to(T0 + timedelta(days=3, minutes=3))
    assert dunning_retries_run() == 1
    work()

    assert attempts(invoice) == [
        (key(invoice, 1), PaymentStatus.FAILED, Decimal("242.00")),
        (key(invoice, 2), PaymentStatus.FAILED, Decimal("242.00")),
        (key(invoice, 3), PaymentStatus.SUCCEEDED, Decimal("242.00")),
    ]
    invoice.refresh_from_db()
    assert (invoice.status, invoice_figures(invoice).paid) == (InvoiceStatus.PAID, Decimal("242.00"))
    dunning.refresh_from_db()
    assert (dunning.status, dunning.failures, dunning.next_retry_at) == (DunningStatus.RECOVERED, 2, None)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.past_due_since) == (SubscriptionStatus.ACTIVE, None)
    assert len(emails_to(KARI)) == 2  # one per failure
    # Later runs find nothing to do.
    clock.to(T0 + timedelta(days=5, minutes=1))
    assert dunning_retries_run() == 0
    assert SimulatedObject.objects.filter(kind="payment").count() == 3


def test_the_collector_run_again_finds_its_attempt_and_charges_nothing_more(declining, clock):
    _subscription, invoice, _saved = declining
    subscription_invoices_collect(invoice_ids=[invoice.pk])
    subscription_invoices_collect(invoice_ids=[invoice.pk])
    work()
    subscription_invoices_collect(invoice_ids=[invoice.pk])  # a billing run started again after the failure
    work()
    assert attempts(invoice) == [(key(invoice, 1), PaymentStatus.FAILED, Decimal("242.00"))]
    assert InvoiceDunning.objects.get(invoice=invoice).failures == 1


def test_a_saved_method_that_is_gone_is_a_failure_with_its_reason(tenant_alpha, clock):
    settings_set()
    subscription = subscription_make(method_ref="bi_pm_deleted")
    invoice = subscription_invoice_make(subscription)

    subscription_invoices_collect(invoice_ids=[invoice.pk])

    assert Payment.objects.filter(invoice=invoice).count() == 0
    dunning = InvoiceDunning.objects.get(invoice=invoice)
    assert (dunning.failures, dunning.last_error) == (1, "The saved payment method is no longer available.")
    (email,) = emails_to(KARI)
    assert "Reason: The saved payment method is no longer available." in email.text


# --- every other way of paying stops the retries ----------------------------------------------------------------------


def test_paying_on_the_hosted_invoice_page_stops_the_retries(declining, clock):
    _subscription, invoice, _saved = declining
    subscription_invoices_collect(invoice_ids=[invoice.pk])
    work()

    assert pay_card(buyer(), invoice).status_code == 302  # the buyer pays the emailed invoice themselves
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID

    # The retry job comes before billing's invoice.paid handler ran: it charges nothing.
    clock.to(T0 + timedelta(days=1, minutes=1))
    assert dunning_retries_run() == 0
    assert Payment.objects.filter(invoice=invoice, off_session=True).count() == 1
    assert InvoiceDunning.objects.get(invoice=invoice).status == DunningStatus.RECOVERED


def test_a_retry_claimed_before_the_buyer_paid_is_refused_under_the_invoice_lock(declining, clock):
    _subscription, invoice, _saved = declining
    subscription_invoices_collect(invoice_ids=[invoice.pk])
    work()
    clock.to(T0 + timedelta(days=1, minutes=1))
    from billing.services.subscription_dunning import dunning_claim_due

    assert dunning_claim_due() == [invoice.pk]  # claimed by a job ...
    assert pay_card(buyer(), invoice).status_code == 302  # ... then the buyer pays ...
    subscription_invoices_retry(invoice_ids=[invoice.pk])  # ... and the job hands it to the collector
    assert Payment.objects.filter(invoice=invoice, off_session=True).count() == 1
    assert InvoiceDunning.objects.get(invoice=invoice).status == DunningStatus.RECOVERED


# --- the last retry ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "status"), [("cancel", SubscriptionStatus.CANCELED), ("leave_open", SubscriptionStatus.PAST_DUE)]
)
def test_the_last_retry_failing_cancels_or_leaves_open_as_set(declining, clock, after, status):
    subscription, invoice, _saved = declining
    settings_set(retry_days=(1,), after_final_retry=after)
    subscription_invoices_collect(invoice_ids=[invoice.pk])
    work()
    clock.to(T0 + timedelta(days=1, minutes=1))
    assert dunning_retries_run() == 1
    work()

    assert [a[1] for a in attempts(invoice)] == [PaymentStatus.FAILED, PaymentStatus.FAILED]
    dunning = InvoiceDunning.objects.get(invoice=invoice)
    assert (dunning.status, dunning.failures, dunning.next_retry_at) == (DunningStatus.EXHAUSTED, 2, None)
    subscription.refresh_from_db()
    assert subscription.status == status
    assert subscription.cancel_reason == ("unpaid" if after == "cancel" else "")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    clock.to(T0 + timedelta(days=30))
    assert dunning_retries_run() == 0
    assert Payment.objects.filter(invoice=invoice).count() == 2


# --- a worker killed mid-charge ---------------------------------------------------------------------------------------


def test_a_retry_whose_worker_died_after_the_processor_charged_is_resolved_by_asking_never_by_charging(
    declining, clock
):
    _subscription, invoice, saved = declining
    subscription_invoices_collect(invoice_ids=[invoice.pk])
    work()
    card_now_behaves_as(saved, CARD_SUCCESS)
    clock.to(T0 + timedelta(days=1, minutes=1))
    assert dunning_retries_run() == 1
    retry = Payment.objects.get(attempt_key=key(invoice, 2))

    # The worker marked the attempt as sent, the processor charged, and the worker died before recording it.
    Payment.objects.filter(pk=retry.pk).update(called_at=clock.now)
    BuiltinProcessor().payment_create(
        PaymentRequest(
            idempotency_key=retry.processor_idempotency_key,
            amount=retry.amount,
            currency=retry.currency,
            method=retry.method,
            description="",
            saved_method_reference=saved.processor_reference,
            off_session=True,
        )
    )

    # The lease runs out and the retry job comes again: it finds the attempt and charges nothing.
    clock.to(T0 + timedelta(days=1, hours=1, minutes=2))
    dunning_retries_run()
    assert Payment.objects.filter(invoice=invoice).count() == 2
    # The reconciliation job asks the processor by the attempt's key and records the one charge.
    payments_reconcile()
    retry.refresh_from_db()
    assert retry.status == PaymentStatus.SUCCEEDED
    run_handlers(*HANDLERS)
    assert SimulatedObject.objects.filter(kind="payment", status="succeeded").count() == 1
    invoice.refresh_from_db()
    assert (invoice.status, invoice_figures(invoice).paid) == (InvoiceStatus.PAID, Decimal("242.00"))
    assert InvoiceDunning.objects.get(invoice=invoice).status == DunningStatus.RECOVERED
