"""A dispute's events delivered together, by several workers at once, give one dispute and the books of the events
applied in order."""

from decimal import Decimal

from django.db.models import Sum

from billing.selectors.receivables import invoice_figures
from payments.models import BalanceEntry, Dispute, DisputeStatus
from payments.processors.base import ProcessorEvent
from payments.services.disputes import dispute_event_apply
from tests.billing.invoicing import seller_ready
from tests.concurrency import in_threads
from tests.payments.paying import open_invoice, pay


def test_events_of_one_dispute_applied_at_once_are_applied_once_each(django_db_setup, live_tenant):
    seller_ready()
    invoice = open_invoice()
    payment = pay(invoice)

    def event(kind, status):
        data = {"payment_reference": payment.processor_reference, "amount": "242.00", "currency": "EUR"}
        return ProcessorEvent(kind=kind, reference="bi_dp_live", data=data | {"status": status, "reason": "fraudulent"})

    events = [event("dispute.opened", "needs_response"), event("dispute.closed", "lost")] * 3

    in_threads(6, lambda n: dispute_event_apply(processor_key="builtin", event=events[n]))

    assert Dispute.objects.get().status == DisputeStatus.LOST
    assert BalanceEntry.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"] == Decimal("-18.64")
    assert invoice_figures(invoice).due == Decimal("242.00")
