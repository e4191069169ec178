"""CRM's domain events: names, payload fields and versions (see commerce_hub.events.catalogue).

Contacts, companies and deals share the same record events; the per-kind maps below pick the constant for a
record kind, so services never build an event name from the kind.
"""

from commerce_hub.events.catalogue import event_declare

APP = "crm"


def _record_events(kind: str, updated_optional: tuple[str, ...] = ()) -> dict[str, object]:
    return {
        "created": event_declare(f"{kind}.created", app=APP, fields=("id",)),
        "updated": event_declare(f"{kind}.updated", app=APP, fields=("id", "fields"), optional=updated_optional),
        "deleted": event_declare(f"{kind}.deleted", app=APP, fields=("id",)),
        "bulk_created": event_declare(f"{kind}.bulk_created", app=APP, fields=("ids", "import_job")),
        "bulk_updated": event_declare(f"{kind}.bulk_updated", app=APP, fields=("ids", "field")),
        "bulk_deleted": event_declare(f"{kind}.bulk_deleted", app=APP, fields=("ids",)),
    }


_contact = _record_events("contact")
_company = _record_events("company")
# A deal's contacts changing: {"fields": ["contacts"], "contact_added" or "contact_removed": id, "by": user id}.
_deal = _record_events("deal", updated_optional=("contact_added", "contact_removed", "by"))

CONTACT_CREATED = _contact["created"]
CONTACT_UPDATED = _contact["updated"]
CONTACT_DELETED = _contact["deleted"]
CONTACT_BULK_CREATED = _contact["bulk_created"]
CONTACT_BULK_UPDATED = _contact["bulk_updated"]
CONTACT_BULK_DELETED = _contact["bulk_deleted"]
COMPANY_CREATED = _company["created"]
COMPANY_UPDATED = _company["updated"]
COMPANY_DELETED = _company["deleted"]
COMPANY_BULK_CREATED = _company["bulk_created"]
COMPANY_BULK_UPDATED = _company["bulk_updated"]
COMPANY_BULK_DELETED = _company["bulk_deleted"]
DEAL_CREATED = _deal["created"]
DEAL_UPDATED = _deal["updated"]
DEAL_DELETED = _deal["deleted"]
DEAL_BULK_CREATED = _deal["bulk_created"]
DEAL_BULK_UPDATED = _deal["bulk_updated"]
DEAL_BULK_DELETED = _deal["bulk_deleted"]
DEAL_STAGE_CHANGED = event_declare("deal.stage_changed", app=APP, fields=("id", "from_stage", "to_stage"))

# The record events by record kind ("contact", "company", "deal"), for services that handle every kind.
RECORD_CREATED = {"contact": CONTACT_CREATED, "company": COMPANY_CREATED, "deal": DEAL_CREATED}
RECORD_UPDATED = {"contact": CONTACT_UPDATED, "company": COMPANY_UPDATED, "deal": DEAL_UPDATED}
RECORD_DELETED = {"contact": CONTACT_DELETED, "company": COMPANY_DELETED, "deal": DEAL_DELETED}
RECORD_BULK_CREATED = {"contact": CONTACT_BULK_CREATED, "company": COMPANY_BULK_CREATED, "deal": DEAL_BULK_CREATED}
RECORD_BULK_UPDATED = {"contact": CONTACT_BULK_UPDATED, "company": COMPANY_BULK_UPDATED, "deal": DEAL_BULK_UPDATED}
RECORD_BULK_DELETED = {"contact": CONTACT_BULK_DELETED, "company": COMPANY_BULK_DELETED, "deal": DEAL_BULK_DELETED}

_ACTIVITY = ("id", "record_type", "record_id")
NOTE_CREATED = event_declare("note.created", app=APP, fields=_ACTIVITY)
NOTE_DELETED = event_declare("note.deleted", app=APP, fields=_ACTIVITY)
TASK_CREATED = event_declare("task.created", app=APP, fields=_ACTIVITY)
TASK_COMPLETED = event_declare("task.completed", app=APP, fields=("id", "by"))
TASK_REOPENED = event_declare("task.reopened", app=APP, fields=("id", "by"))
