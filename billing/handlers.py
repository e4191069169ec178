"""Billing's reactions to domain events. Handlers are idempotent: delivery is at least once."""

from billing.tasks import invoice_pdf_render
from commerce_hub.events.registry import handler


@handler("invoice.finalized", name="billing.invoice_pdf_on_finalize")
def invoice_pdf_on_finalize(event) -> None:
    # Rendering takes a few hundred milliseconds; it runs in its own task so the delivery stays short. The PDF
    # is cached on first render, so a second run (or a buyer downloading first) renders nothing twice.
    invoice_pdf_render.delay_on_commit(event.payload["id"])
