"""A processor call whose answer is lost: the attempt stays "created" and the reconciliation job asks the processor
by the attempt's key, so the buyer is charged once, and an attempt the processor never saw fails without a charge."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import InvoicePayment
from billing.selectors.receivables import invoice_figures
from payments.models import BalanceEntry, MethodKind, Payment, PaymentStatus, SimulatedObject
from payments.processors import ProcessorUnreachable
from payments.processors.builtin import CARD_SUCCESS, BuiltinProcessor
from payments.services.payments import payment_charge_saved, payment_process, payments_reconcile
from payments.services.saved_methods import payment_method_save
from tests.payments.paying import open_invoice, pay


class TimesOutAfterCharging(BuiltinProcessor):
    def payment_create(self, request):
        super().payment_create(request)
        raise ProcessorUnreachable("Read timed out.")


class TimesOutBeforeCharging(BuiltinProcessor):
    def payment_create(self, request):
        raise ProcessorUnreachable("Connection refused.")


def _later(minutes=5):
    return timezone.now() + timedelta(minutes=minutes)


def test_a_timeout_after_the_charge_is_reconciled_to_one_payment(tenant_alpha):
    invoice = open_invoice()
    payment = pay(invoice, processor=TimesOutAfterCharging())
    assert payment.status == PaymentStatus.CREATED
    assert invoice_figures(invoice).paid == Decimal("0")  # not shown as paid before it is known

    assert payments_reconcile(now=_later()) == 1
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert SimulatedObject.objects.filter(kind="payment").count() == 1
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1
    assert invoice_figures(invoice).paid == Decimal("242.00")
    # Asking again changes nothing: one charge entry on the processor balance.
    payments_reconcile(now=_later(10))
    assert BalanceEntry.objects.filter(payment=payment, kind="charge").count() == 1


def test_an_attempt_the_processor_never_saw_fails_without_a_charge(tenant_alpha):
    invoice = open_invoice()
    payment = pay(invoice, processor=TimesOutBeforeCharging())
    assert payments_reconcile(now=timezone.now()) == 0  # too early to give up on it
    payments_reconcile(now=_later())
    payment.refresh_from_db()
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "not_received")
    assert SimulatedObject.objects.count() == 0
    invoice.refresh_from_db()
    assert invoice.status == "open"
    # The buyer can pay again now that nothing is in flight.
    assert pay(invoice).status == PaymentStatus.SUCCEEDED


def test_off_session_charge_run_twice_charges_once(tenant_alpha):
    invoice = open_invoice()
    saved = payment_method_save(
        company_id=invoice.company_id,
        contact_id=None,
        method=MethodKind.CARD,
        method_data={"number": CARD_SUCCESS},
        attempt_key="setup-1",
    )
    assert saved.details == {"brand": "visa", "last4": "4242"}
    payment = payment_charge_saved(invoice=invoice, saved_method=saved, attempt_key="renewal-1")
    # The worker's task, delivered twice (a redelivery after a lost acknowledgement).
    first = payment_process(payment_id=payment.pk)
    second = payment_process(payment_id=payment.pk)
    assert first.status == second.status == PaymentStatus.SUCCEEDED
    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert SimulatedObject.objects.filter(kind="payment").count() == 1
    assert invoice_figures(invoice).paid == Decimal("242.00")
