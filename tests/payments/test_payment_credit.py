"""Money that arrives for more than is owed becomes customer credit, never an error; credit can be refunded to the
payment it came from."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.selectors.receivables import credit_available, invoice_account, invoice_figures
from billing.services.invoice_payments import invoice_record_payment
from payments.models import MethodKind, PaymentStatus, RefundMode
from payments.services.processor_events import builtin_tick_apply
from payments.services.refunds import refund_request
from tests.payments.paying import SEPA, open_invoice, pay


def test_a_debit_settling_after_the_invoice_was_paid_another_way_becomes_credit(tenant_alpha, admin_user):
    invoice = open_invoice()
    debit = pay(invoice, method=MethodKind.SEPA_DEBIT, data=SEPA)
    # Meanwhile the buyer also paid by bank transfer, recorded by finance.
    invoice_record_payment(
        invoice=invoice,
        amount=Decimal("242.00"),
        paid_on=timezone.localdate(),
        method="bank_transfer",
        actor=admin_user,
    )
    builtin_tick_apply(now=timezone.now() + timedelta(days=4))
    debit.refresh_from_db()
    assert debit.status == PaymentStatus.SUCCEEDED
    account = invoice_account(invoice)
    assert credit_available(account, "EUR") == Decimal("242.00")
    figures = invoice_figures(invoice)
    assert (figures.paid, figures.due, figures.status) == (Decimal("242.00"), Decimal("0"), "paid")

    # The credit goes back to the debit it came from.
    refund = refund_request(payment=debit, amount="242.00", mode=RefundMode.CREDIT, actor=admin_user)
    assert refund.status == "succeeded"
    assert credit_available(account, "EUR") == Decimal("0")
    assert invoice_figures(invoice).status == "paid"  # the invoice itself stays paid by the transfer


def test_refunding_more_credit_than_the_customer_has_is_refused_before_any_money_moves(tenant_alpha, admin_user):
    invoice = open_invoice()
    payment = pay(invoice)
    with pytest.raises(ValidationError) as refused:
        refund_request(payment=payment, amount="10.00", mode=RefundMode.CREDIT, actor=admin_user)
    assert refused.value.message_dict == {"amount": ["The customer has €0.00 of credit to refund."]}
    assert payment.refunds.count() == 0


@pytest.mark.parametrize(
    "amount, message",
    [
        ("abc", "Enter an amount above zero."),
        ("-5", "Enter an amount above zero."),
        ("1e9999", None),
        ("242.01", "At most €242.00 is left to refund."),
        ("0.001", None),
    ],
)
def test_absurd_refund_amounts_are_refused_with_a_message(tenant_alpha, admin_user, amount, message):
    payment = pay(open_invoice())
    with pytest.raises(ValidationError) as refused:
        refund_request(payment=payment, amount=amount, mode=RefundMode.REOPEN, actor=admin_user)
    errors = refused.value.message_dict["amount"]
    assert len(errors) == 1
    if message:
        assert errors == [message]
    assert payment.refunds.count() == 0


def test_a_disputed_payment_cannot_be_refunded_while_the_dispute_is_open(tenant_alpha, admin_user):
    from payments.processors.builtin import CARD_DISPUTED
    from tests.payments.paying import CARD

    payment = pay(open_invoice(), data=CARD | {"number": CARD_DISPUTED})
    builtin_tick_apply()
    assert payment.disputes.get().status == "needs_response"
    with pytest.raises(ValidationError) as refused:
        refund_request(payment=payment, amount="10.00", mode=RefundMode.REOPEN, actor=admin_user)
    assert refused.value.messages == ["This payment is disputed. Answer the dispute instead of refunding it."]
    assert payment.refunds.count() == 0
