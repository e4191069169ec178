"""Paying an invoice through the built-in processor: the attempt, the outcome, the ledgers."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.selectors.receivables import invoice_figures
from payments.models import BalanceEntry, MethodKind, PaymentStatus, RefundMode
from payments.processors.builtin import CARD_DECLINED
from payments.services.refunds import refund_request
from tests.payments.paying import SEPA, open_invoice, pay


def test_card_payment_marks_the_invoice_paid_and_books_charge_and_fee(tenant_alpha):
    invoice = open_invoice()
    payment = pay(invoice)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.amount == Decimal("242.00")
    # 1.4% + 0.25 of 242.00 = 3.388 + 0.25 = 3.638 -> 3.64
    assert payment.fee == Decimal("3.64")
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert invoice_figures(invoice).paid == Decimal("242.00")
    rows = sorted((e.kind, e.amount) for e in BalanceEntry.objects.filter(payment=payment))
    assert rows == [("charge", Decimal("242.0000")), ("fee", Decimal("-3.6400"))]


def test_the_same_attempt_key_never_charges_twice(tenant_alpha):
    invoice = open_invoice()
    first = pay(invoice, key="checkout-1")
    again = pay(invoice, key="checkout-1")
    assert again.pk == first.pk
    assert invoice_figures(invoice).paid == Decimal("242.00")


def test_declined_card_fails_and_leaves_the_invoice_open(tenant_alpha):
    invoice = open_invoice()
    payment = pay(invoice, data={"number": CARD_DECLINED})
    assert payment.status == PaymentStatus.FAILED
    assert payment.failure_code == "card_declined"
    invoice.refresh_from_db()
    assert invoice.status == "open"


def test_a_debit_in_flight_refuses_a_second_payment(tenant_alpha):
    invoice = open_invoice()
    debit = pay(invoice, method=MethodKind.SEPA_DEBIT, data=SEPA)
    assert debit.status == PaymentStatus.PROCESSING
    with pytest.raises(ValidationError, match="processing"):
        pay(invoice)
    invoice.refresh_from_db()
    assert invoice.status == "open"  # never paid while processing


def test_partial_refund_reopens_the_balance(tenant_alpha, admin_user):
    invoice = open_invoice()
    payment = pay(invoice)
    refund = refund_request(payment=payment, amount="42.00", mode=RefundMode.REOPEN, actor=admin_user)
    assert refund.status == "succeeded"
    figures = invoice_figures(invoice)
    assert (figures.paid, figures.due, figures.status) == (Decimal("200.00"), Decimal("42.00"), "partially_paid")


def test_refund_with_credit_note_keeps_the_invoice_settled(tenant_alpha, admin_user):
    invoice = open_invoice()
    payment = pay(invoice)
    refund = refund_request(payment=payment, amount="121.00", mode=RefundMode.CREDIT_NOTE, actor=admin_user)
    assert refund.credit_note is not None
    assert refund.credit_note.total == Decimal("121.00")
    figures = invoice_figures(invoice)
    assert figures.due == Decimal("0")
    invoice.refresh_from_db()
    assert invoice.status == "paid"
