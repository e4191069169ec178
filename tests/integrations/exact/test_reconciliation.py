"""Reconciliation: our open invoices against Exact's receivables, every difference listed."""

from datetime import date
from decimal import Decimal

from billing.services.invoice_payments import invoice_record_payment
from integrations.exact.selectors.reconciliation import reconciliation
from integrations.exact.services import sync
from tests.billing.invoicing import finalized_make
from tests.integrations.exact.conftest import settings_save


def test_every_difference_is_listed(exact, admin_user, admin_client):
    settings_save(invoices_enabled=True, invoice_mode="processed")
    same = finalized_make()
    not_sent = finalized_make()
    amount = finalized_make()
    paid_there = finalized_make()
    paid_here = finalized_make()
    for invoice in (same, amount, paid_there, paid_here):
        sync.invoice_push(invoice_id=invoice.pk)
    receivable = next(r for r in exact.rows("cashflow/Receivables") if r["YourRef"] == amount.number)
    receivable["AmountFC"] = 200.0
    exact.receivable_pay(paid_there.number)
    invoice_record_payment(
        invoice=paid_here, amount=paid_here.total, paid_on=date.today(), method="bank_transfer", actor=admin_user
    )
    exact.insert(
        "cashflow/Receivables",
        {
            "YourRef": "EXT-1",
            "Description": "EXT-1",
            "AmountFC": 75.5,
            "IsFullyPaid": False,
            "LineType": 20,
            "Currency": "EUR",
        },
    )
    total = Decimal("242.00")
    assert same.total == total
    found = [(d.kind, d.reference, d.ours, d.theirs) for d in reconciliation()]
    assert sorted(found) == sorted(
        [
            ("missing_in_exact", not_sent.number, total, None),
            ("amount_differs", amount.number, total, Decimal("200.00")),
            ("paid_in_exact_only", paid_there.number, total, total),
            ("paid_here_only", paid_here.number, total, total),
            ("missing_here", "EXT-1", None, Decimal("75.50")),
        ]
    )
    page = admin_client.get("/integrations/exact/reconciliation/").content.decode()
    for label in (
        "Open here, not in Exact",
        "In Exact, not here",
        "Amounts differ",
        "Paid here, open in Exact",
        "Paid in Exact, open here",
    ):
        assert label in page


def test_the_page_asks_to_connect_first(admin_client):
    page = admin_client.get("/integrations/exact/reconciliation/").content.decode()
    assert "Connect Exact Online first." in page
