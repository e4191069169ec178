"""Links between companies, contacts and deals.

A contact's or deal's company is a field of that record, so it changes through record_update like any other field
(validation, events and all); a deal's contacts are a many-to-many link written here.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from commerce_hub.events.services import event_emit
from crm import events
from crm.models import Company, Contact, Deal
from crm.services.records import record_update


def company_contact_add(*, company: Company, contact: Contact, actor) -> Contact:
    """Make `contact` work at `company` (a contact belongs to one company, so this moves it from another)."""
    return record_update(record=contact, changes={"company": str(company.pk)}, actor=actor)


def company_contact_remove(*, company: Company, contact: Contact, actor) -> Contact:
    if contact.company_id != company.pk:
        return contact
    return record_update(record=contact, changes={"company": ""}, actor=actor)


def deal_contact_add(*, deal: Deal, contact: Contact, actor) -> bool:
    """Returns whether the link is new. Adding a contact twice is a no-op, not an error (two tabs)."""
    with transaction.atomic():
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        if locked.contacts.filter(pk=contact.pk).exists():
            return False
        locked.contacts.add(contact)
        _touch(locked, contact_id=contact.pk, change="contact_added", actor=actor)
    return True


def deal_contact_remove(*, deal: Deal, contact: Contact, actor) -> bool:
    with transaction.atomic():
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        if not locked.contacts.filter(pk=contact.pk).exists():
            return False
        locked.contacts.remove(contact)
        _touch(locked, contact_id=contact.pk, change="contact_removed", actor=actor)
    return True


def _touch(deal: Deal, *, contact_id: int, change: str, actor) -> None:
    deal.updated_at = timezone.now()
    deal.save(update_fields=["updated_at"])
    event_emit(
        name=events.DEAL_UPDATED,
        payload={"id": deal.pk, "fields": ["contacts"], change: contact_id, "by": getattr(actor, "pk", None)},
    )
