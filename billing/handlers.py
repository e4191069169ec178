"""Billing's reactions to domain events. Handlers run outside any transaction, at least once: each is idempotent."""

from billing import events
from billing.tasks import invoice_pdf_render
from commerce_hub.events.registry import handler


@handler(events.INVOICE_FINALIZED, name="billing.invoice_pdf_on_finalize")
def invoice_pdf_on_finalize(event, *, delivery_id: int) -> None:
    # Rendering takes a few hundred milliseconds; it runs in its own task so the delivery stays short. Running this
    # twice is harmless: the PDF is rendered once and cached (billing.pdf.pdf_cached_or_rendered), so a second task, or
    # a buyer downloading first, renders nothing twice.
    invoice_pdf_render.delay(event.payload["id"])
