"""A dispute's events delivered together, by several workers at once, give one dispute and the books of the events
applied in order."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from django.db import connection
from django.db.models import Sum
from django_tenants.utils import schema_context

from billing.selectors.receivables import invoice_figures
from payments.models import BalanceEntry, Dispute, DisputeStatus
from payments.processors.base import ProcessorEvent
from payments.services.disputes import dispute_event_apply
from tests.billing.invoicing import seller_ready
from tests.payments.paying import open_invoice, pay


def _in_threads(count, fn):
    start = threading.Barrier(count)

    def run(n):
        try:
            with schema_context("t_live"):
                start.wait(10)
                return fn(n)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_events_of_one_dispute_applied_at_once_are_applied_once_each(django_db_setup, live_tenant):
    seller_ready()
    invoice = open_invoice()
    payment = pay(invoice)

    def event(kind, status):
        data = {"payment_reference": payment.processor_reference, "amount": "242.00", "currency": "EUR"}
        return ProcessorEvent(kind=kind, reference="bi_dp_live", data=data | {"status": status, "reason": "fraudulent"})

    events = [event("dispute.opened", "needs_response"), event("dispute.closed", "lost")] * 3

    _in_threads(6, lambda n: dispute_event_apply(processor_key="builtin", event=events[n]))

    assert Dispute.objects.get().status == DisputeStatus.LOST
    assert BalanceEntry.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"] == Decimal("-18.64")
    assert invoice_figures(invoice).due == Decimal("242.00")
