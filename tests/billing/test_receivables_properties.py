"""Properties of the receivables ledger over random sequences of invoices, payments of any size, credit notes,
reversals, manual credit, credit applied by hand and write-offs (hypothesis), for one customer in two currencies.

After every sequence, per currency:
- the sum of every entry equals the open balances less the customer's credit;
- no invoice owes less than zero and the credit is never below zero;
- every amount received is either applied to invoices or held as credit (a reversed payment counts as nothing);
- an invoice's stored state agrees with its balance: open owes something, paid owes nothing.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from billing.models import CreditNote, EntryKind, Invoice, InvoicePayment, InvoiceStatus, ReceivableEntry
from billing.selectors.receivables import Account, credit_available, invoice_bucket_balance, with_figures
from billing.services.credit_notes import AmountCredit, credit_note_create
from billing.services.invoice_payments import (
    invoice_apply_credit,
    invoice_mark_uncollectible,
    invoice_record_payment,
    payment_reverse,
)
from billing.services.receivables import customer_credit_add
from tests.billing.invoicing import buyer_make, finalized_make, seller_ready

CURRENCIES = ("EUR", "KWD")
cents = st.integers(min_value=1, max_value=50_000)  # 0.01 .. 500.00 (0.001 .. 50.000 for KWD)

# Weighted so that sequences pay, credit and reverse the same invoices often; write-offs close them, so rarer.
KINDS = ["pay"] * 4 + ["credit_note"] * 2 + ["reverse"] * 2 + ["grant", "apply", "invoice", "write_off"]
steps = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 9), cents),
    min_size=1,
    max_size=14,
)


def minor(currency: str) -> Decimal:
    return Decimal("0.001") if currency == "KWD" else Decimal("0.01")


def _invoice_make(company, contact, actor, *, currency: str, quantity: int):
    lines = (("Work", str(quantity), "10", None),)
    return finalized_make(actor=actor, company=company, contacts=[contact], currency=currency, lines=lines)


def _run(step, *, company, contact, actor):
    kind, target, value = step
    invoices = list(Invoice.objects.filter(company=company).order_by("pk"))
    payments = list(InvoicePayment.objects.filter(invoice__company=company).order_by("pk"))
    pick = invoices[target % len(invoices)]
    if kind == "invoice":
        _invoice_make(company, contact, actor, currency=CURRENCIES[target % 2], quantity=value % 40 + 1)
    elif kind == "grant":
        currency = CURRENCIES[target % 2]
        account = Account(company_id=company.pk)
        customer_credit_add(account=account, currency=currency, amount=value * minor(currency), reason="x", actor=actor)
    elif kind == "pay":
        invoice_record_payment(
            invoice=pick, amount=value * minor(pick.currency), paid_on=timezone.localdate(), method="cash", actor=actor
        )
    elif kind == "credit_note":
        credit_note_create(invoice=pick, actor=actor, amounts=[AmountCredit("Credit", value * minor(pick.currency), 0)])
    elif kind == "reverse" and payments:
        payment_reverse(payment=payments[target % len(payments)], reason="Mistake", actor=actor)
    elif kind == "apply":
        open_ones = [i for i in invoices if i.status == InvoiceStatus.OPEN] or [pick]
        invoice_apply_credit(invoice=open_ones[target % len(open_ones)], actor=actor)
    elif kind == "write_off":
        invoice_mark_uncollectible(invoice=pick, actor=actor)


def _check(company):
    account = Account(company_id=company.pk)
    invoices = list(with_figures(Invoice.objects.filter(company=company)))
    for currency in CURRENCIES:
        ledger_total = ReceivableEntry.objects.filter(company=company, currency=currency).aggregate(s=Sum("amount"))[
            "s"
        ] or Decimal(0)
        mine = [i for i in invoices if i.currency == currency]
        open_balances = sum((i.balance_due for i in mine), Decimal(0))
        credit = credit_available(account, currency)
        assert ledger_total == open_balances - credit
        assert credit >= 0
        received = sum(
            (p.amount for p in InvoicePayment.objects.filter(invoice__company=company, currency=currency)), Decimal(0)
        )
        reversed_ = sum(
            (
                p.amount
                for p in InvoicePayment.objects.filter(
                    invoice__company=company, currency=currency, ledger_entries__kind=EntryKind.PAYMENT_REVERSED
                ).distinct()
            ),
            Decimal(0),
        )
        paid_on_invoices = sum((i.paid_amount for i in mine), Decimal(0))
        granted = -(
            ReceivableEntry.objects.filter(
                company=company, currency=currency, kind=EntryKind.CREDIT_ADDED, invoice__isnull=True
            ).aggregate(s=Sum("amount"))["s"]
            or Decimal(0)
        )
        # Money in (payments net of reversals) plus credit granted is what paid invoices plus what is still held.
        assert received - reversed_ + granted == paid_on_invoices + credit
    for invoice in invoices:
        bucket = invoice_bucket_balance(invoice)
        assert bucket >= 0
        assert invoice.balance_due == bucket
        if invoice.status == InvoiceStatus.OPEN:
            assert bucket > 0
        credited = CreditNote.objects.filter(invoice=invoice).aggregate(s=Sum("total"))["s"] or Decimal(0)
        assert invoice.credited_amount <= credited <= invoice.total


@pytest.mark.django_db
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_the_ledger_balances_for_any_sequence(tenant_alpha, admin_user, steps):
    seller_ready()
    sid = transaction.savepoint()
    try:
        company, contact = buyer_make(email="props@example.com")
        _invoice_make(company, contact, admin_user, currency="EUR", quantity=12)  # 120.00
        _invoice_make(company, contact, admin_user, currency="KWD", quantity=3)  # 30.000
        for step in steps:
            try:
                with transaction.atomic():
                    _run(step, company=company, contact=contact, actor=admin_user)
                event(f"{step[0]} done")
            except ValidationError:
                # A refused step (nothing left to credit, a spent credit) changes nothing.
                event(f"{step[0]} refused")
        _check(company)
    finally:
        transaction.savepoint_rollback(sid)
