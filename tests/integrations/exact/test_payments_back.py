"""Payment status from Exact: a fully paid receivable pays our invoice through billing (source "exact", the
receivable's id as reference), once, and the deal follows as it does for any payment."""

from decimal import Decimal

from billing.models import InvoicePayment
from commerce_hub.events.models import OutboxEvent
from integrations.exact.services import sync
from integrations.exact.services.receivables import receivables_pull
from integrations.models import ExactConnection
from tests.integrations.exact.test_sync import _configure_invoices


def test_a_fully_paid_receivable_marks_our_invoice_paid_once(exact):
    deal = _configure_invoices(mode="processed")
    sync.deal_invoice_push(deal_id=deal.pk)
    invoice = deal.invoices.get()
    assert receivables_pull() == 0  # booked in Exact, not paid yet
    assert invoice.status == "open"

    receivable = exact.receivable_pay(invoice.number)
    assert receivables_pull() == 1
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    payment = InvoicePayment.objects.get(invoice=invoice)
    assert (payment.source, payment.external_id, payment.amount) == ("exact", receivable["ID"], Decimal("296.50"))
    assert OutboxEvent.objects.filter(name="invoice.paid", payload__id=invoice.pk).exists()
    assert ExactConnection.objects.get(pk=1).receivables_timestamp == receivable["Timestamp"]

    # Read again from the start: still one payment (the unique source and reference).
    ExactConnection.objects.filter(pk=1).update(receivables_timestamp=0)
    assert receivables_pull() == 0
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1


def test_only_changes_after_the_stored_timestamp_are_read(exact):
    deal = _configure_invoices(mode="processed")
    sync.deal_invoice_push(deal_id=deal.pk)
    receivables_pull()
    mark = ExactConnection.objects.get(pk=1).receivables_timestamp
    receivables_pull()
    filters = [c.query.get("$filter") for c in exact.calls_to("GET", "sync/Cashflow/PaymentTerms")]
    assert filters == ["Timestamp gt 0L", f"Timestamp gt {mark}L"]


def test_a_partly_paid_receivable_changes_nothing(exact):
    deal = _configure_invoices(mode="processed")
    sync.deal_invoice_push(deal_id=deal.pk)
    invoice = deal.invoices.get()
    exact.receivable_pay(invoice.number, partially=Decimal("100"))
    assert receivables_pull() == 0
    invoice.refresh_from_db()
    assert invoice.status == "open"


def test_a_receivable_of_an_invoice_we_never_sent_is_ignored(exact):
    exact.insert(
        "cashflow/Receivables",
        {"YourRef": "INV-9999", "Description": "INV-9999", "IsFullyPaid": True, "LineType": 20, "AmountFC": 10.0},
    )
    assert receivables_pull() == 0
    assert not InvoicePayment.objects.exists()
