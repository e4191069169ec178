"""Billing's reactions to a quote's checkout and acceptance (registered from billing.setup.quote_checkout).

Handlers run outside any transaction, at least once. Each calls one service whose own guard (the quote's state,
under its row lock, and the one-subscription-per-group constraint) makes a second run do nothing, so the quote is
paid, its installments invoiced, its subscriptions created and its emails sent once.
"""

from billing import events
from billing.models import Invoice, Quote
from billing.services.quote_checkout import quote_checkout_complete, quote_subscriptions_on_acceptance
from commerce_hub.events.registry import handler


@handler(events.INVOICE_PAID, name="billing.quote_checkout_paid")
def quote_checkout_paid(event, *, delivery_id: int) -> None:
    """A quote's checkout invoice was paid (online, by credit or by hand): complete the quote's checkout."""
    invoice = Invoice.objects.filter(pk=event.payload["id"], checkout_for_quote__isnull=False).first()
    if invoice is not None:
        quote_checkout_complete(invoice=invoice)


def _subscriptions_on_acceptance(event) -> None:
    quote = Quote.objects.filter(pk=event.payload["id"]).first()
    if quote is not None:
        quote_subscriptions_on_acceptance(quote=quote)


@handler(events.QUOTE_SIGNED, name="billing.quote_subscriptions_on_signed")
def quote_subscriptions_on_signed(event, *, delivery_id: int) -> None:
    """A quote that collects no payment starts its subscriptions once signed."""
    _subscriptions_on_acceptance(event)


@handler(events.QUOTE_ACCEPTED, name="billing.quote_subscriptions_on_accepted")
def quote_subscriptions_on_accepted(event, *, delivery_id: int) -> None:
    """A quote that collects no payment starts its subscriptions once accepted."""
    _subscriptions_on_acceptance(event)
