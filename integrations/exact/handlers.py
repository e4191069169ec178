"""Domain events that reach Exact. Each handler runs from the outbox, outside any transaction, at least once: the
pushes are idempotent (a record's link and a look-up by our reference before creating). A tenant that is not
connected skips quietly; one that needs reconnecting raises, so the delivery retries and, after three days, waits
on the failed deliveries page instead of being dropped."""

from __future__ import annotations

from billing import events as billing_events
from commerce_hub.events.registry import handler
from crm import events as crm_events
from crm.models import Deal
from integrations.exact.services import sync
from integrations.exact.services.setup import exact_settings_get
from integrations.exact.tokens import NotConnected, ReconnectNeeded, connection_usable


def _connected() -> bool:
    try:
        connection_usable()
    except ReconnectNeeded:
        raise
    except NotConnected:
        return False
    return True


@handler(crm_events.COMPANY_CREATED, name="integrations.exact.company_created")
@handler(crm_events.COMPANY_UPDATED, name="integrations.exact.company_updated")
def company_changed(event, *, delivery_id: int) -> None:
    if _connected():
        sync.company_push(company_id=event.payload["id"])


@handler(crm_events.CONTACT_CREATED, name="integrations.exact.contact_created")
@handler(crm_events.CONTACT_UPDATED, name="integrations.exact.contact_updated")
def contact_changed(event, *, delivery_id: int) -> None:
    if _connected():
        sync.contact_push(contact_id=event.payload["id"])


@handler(billing_events.PRODUCT_CREATED, name="integrations.exact.product_created")
@handler(billing_events.PRODUCT_UPDATED, name="integrations.exact.product_updated")
def product_changed(event, *, delivery_id: int) -> None:
    if _connected():
        sync.product_push(product_id=event.payload["id"])


@handler(crm_events.DEAL_STAGE_CHANGED, name="integrations.exact.deal_stage_changed")
def deal_stage_changed(event, *, delivery_id: int) -> None:
    settings = exact_settings_get()
    if settings.opportunities_enabled and not settings.invoices_enabled and _connected():
        sync.opportunity_push(deal_id=event.payload["id"])
        return
    if not settings.invoices_enabled or not _connected():
        return
    deal = Deal.objects.filter(pk=event.payload["id"]).first()
    if deal is None or deal.stage_id != int(event.payload["to_stage"]):
        return  # deleted, or moved on since: the stage it is in now had its own event
    if sync.deal_invoice_stage(deal, settings) == deal.stage_id:
        sync.deal_invoice_push(deal_id=deal.pk)


@handler(crm_events.DEAL_CREATED, name="integrations.exact.deal_created")
@handler(crm_events.DEAL_UPDATED, name="integrations.exact.deal_updated")
def deal_changed(event, *, delivery_id: int) -> None:
    settings = exact_settings_get()
    if settings.opportunities_enabled and not settings.invoices_enabled and _connected():
        sync.opportunity_push(deal_id=event.payload["id"])


@handler(billing_events.INVOICE_FINALIZED, name="integrations.exact.invoice_finalized")
def invoice_finalized(event, *, delivery_id: int) -> None:
    """With the sales invoices module on, every finalized invoice is booked in Exact."""
    if exact_settings_get().invoices_enabled and _connected():
        sync.invoice_push(invoice_id=event.payload["id"])
