"""Payment links' event handlers: a purchase's invoice paid completes the purchase."""

from billing import events
from billing.services.payment_link_checkout import payment_link_invoice_paid
from commerce_hub.events.registry import handler


@handler(events.INVOICE_PAID, name="billing.payment_link_invoice_paid")
def payment_link_paid(event, *, delivery_id: int) -> None:
    """A purchase's invoice was paid (online, by credit or by hand): complete the purchase, once."""
    payment_link_invoice_paid(invoice_id=event.payload["id"])
