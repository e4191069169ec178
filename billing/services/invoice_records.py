"""The traces every invoice change leaves (its timeline, the audit log, the domain event) and the invoice row lock:
the lowest layer of the invoice services, which every other invoice service builds on."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from billing import events
from billing.models import Invoice, InvoiceEvent
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.catalogue import EventType
from commerce_hub.events.services import event_emit


def invoice_lock(invoice: Invoice) -> Invoice:
    locked = Invoice.objects.select_for_update().filter(pk=invoice.pk).first()
    if locked is None:
        raise ValidationError(_("This invoice no longer exists."))
    return locked


def invoice_event_add(*, invoice: Invoice, kind: str, actor, from_status: str = "", to_status: str = "", **data):
    real_actor = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return InvoiceEvent.objects.create(
        invoice=invoice, kind=kind, from_status=from_status, to_status=to_status, actor=real_actor, data=data
    )


def invoice_change_record(
    invoice: Invoice, *, kind: str, actor, event: EventType | str | None = None, from_status="", to_status="", **data
):
    """The three traces every invoice change leaves: its timeline, the audit log and the domain event.

    `event` is a billing.events constant (INVOICE_FINALIZED); the kind of a state change ("paid") is looked up in
    billing.events.INVOICE_CHANGES, and anything not in the catalogue is refused by event_emit."""
    invoice_event_add(invoice=invoice, kind=kind, actor=actor, from_status=from_status, to_status=to_status, **data)
    audit_record(
        actor=actor,
        action=f"invoice.{kind}",
        obj=invoice,
        object_repr=str(invoice),
        before={"status": from_status} if from_status else None,
        after={"status": to_status, **data} if to_status else (data or None),
    )
    if event:
        event_type = event if isinstance(event, EventType) else events.INVOICE_CHANGES.get(event, event)
        event_emit(name=event_type, payload={"id": invoice.pk, "number": invoice.number, **data})
