"""Whatever refunds follow a payment, in whatever modes and amounts: no more than was captured leaves, the invoice's
figures still add up (total = paid + credited + written off + due), and the processor balance of the payment is its
charge less its fee and refunds."""

import contextlib
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Sum
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from billing.models import CreditNote
from billing.selectors.receivables import credit_available, invoice_account, invoice_figures
from payments.models import BalanceEntry, RefundMode, RefundStatus
from payments.services.refunds import refund_request
from tests.payments.paying import open_invoice, pay

MODES = [RefundMode.REOPEN, RefundMode.CREDIT_NOTE, RefundMode.CREDIT]
refunds = st.lists(
    st.tuples(st.sampled_from(MODES), st.decimals(min_value="0.01", max_value="300.00", places=2)),
    min_size=1,
    max_size=6,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=refunds)
# A credit note that settled the invoice, then a refund off the invoice: the invoice must reopen.
@example(steps=[(RefundMode.REOPEN, Decimal("0.01")), (RefundMode.CREDIT_NOTE, Decimal("0.01"))])
def test_refunds_never_exceed_the_capture_and_every_figure_adds_up(tenant_alpha, admin_user, steps):
    invoice = open_invoice()
    payment = pay(invoice)
    account = invoice_account(invoice)
    for mode, amount in steps:
        with contextlib.suppress(ValidationError):  # refused with a message before any money moved
            refund_request(payment=payment, amount=amount, mode=mode, actor=admin_user)
    refunded = payment.refunds.filter(status=RefundStatus.SUCCEEDED).aggregate(s=Sum("amount"))["s"] or Decimal(0)
    assert refunded <= payment.amount
    assert not payment.refunds.exclude(status=RefundStatus.SUCCEEDED).exists()

    figures = invoice_figures(invoice)
    assert figures.total == figures.paid + figures.credited + figures.written_off + figures.due
    assert figures.due >= 0 and credit_available(account, "EUR") >= 0
    # Nothing appears or vanishes: what the customer owes less its credit is what was invoiced, less what it paid,
    # plus what it got back, less what credit notes took off.
    credited = CreditNote.objects.filter(invoice=invoice).aggregate(s=Sum("total"))["s"] or Decimal(0)
    owed = figures.due - credit_available(account, "EUR")
    assert owed == figures.total - payment.amount + refunded - credited

    balance = BalanceEntry.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"]
    assert balance == payment.amount - payment.fee - refunded
