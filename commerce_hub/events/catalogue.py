"""The catalogue of domain events: every event name, its payload fields and its version, declared once.

Each app declares its events in one module of constants (`<app>/events.py`; the platform's are below), and code
refers to an event by its constant (`billing.events.INVOICE_FINALIZED`), never by a name built from a string.
`event_emit` and `@handler` refuse a name that is not declared here, and `event_emit` refuses a payload without
the declared fields, so a webhook or a workflow that reads the catalogue (`manage.py events_catalogue`) can rely on
what it lists.

Versions: a payload may gain optional fields without a new version; removing or renaming a field, or changing its
meaning, is a new version, which consumers can tell apart in the stored event.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class UnknownEventError(LookupError):
    """An event name nobody declared."""


class EventPayloadError(ValueError):
    """A payload without one of its event's declared fields."""


@dataclass(frozen=True)
class EventType:
    name: str
    app: str
    version: int
    # Every payload carries these.
    fields: tuple[str, ...]
    # Carried when they apply (the invoice's change data, the actor); listed so consumers know they may come.
    optional: tuple[str, ...] = ()
    description: str = ""

    def __str__(self) -> str:
        return self.name

    def payload_check(self, payload: Mapping) -> None:
        missing = [field for field in self.fields if field not in payload]
        if missing:
            raise EventPayloadError(f"Event {self.name} needs the payload fields {', '.join(missing)}.")

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "version": self.version,
            "app": self.app,
            "fields": list(self.fields),
            "optional": list(self.optional),
            "description": self.description,
        }


_catalogue: dict[str, EventType] = {}


def event_declare(
    name: str, *, app: str, fields: Iterable[str], version: int = 1, optional: Iterable[str] = (), description=""
) -> EventType:
    """Declare one event; the returned EventType is the constant code uses. Declaring the same event again (a
    module imported twice) is harmless; declaring a name another app owns is an error."""
    event_type = EventType(
        name=name,
        app=app,
        version=version,
        fields=tuple(fields),
        optional=tuple(optional),
        description=description,
    )
    existing = _catalogue.get(name)
    if existing is not None and existing.app != app:
        raise ValueError(f"Event {name} is declared by both {existing.app} and {app}.")
    _catalogue[name] = event_type
    return event_type


def event_type_get(name: EventType | str) -> EventType:
    """The declared event for a constant or its name; UnknownEventError for anything else."""
    key = name.name if isinstance(name, EventType) else name
    event_type = _catalogue.get(key) if isinstance(key, str) else None
    if event_type is None:
        raise UnknownEventError(f"Event {key!r} is not in the catalogue; declare it in its app's events module.")
    return event_type


def event_types() -> list[EventType]:
    return sorted(_catalogue.values(), key=lambda e: (e.app, e.name))


def event_undeclare(name: str) -> None:
    """Tests declare events of their own and remove them again."""
    _catalogue.pop(name, None)


# --- the platform's own events --------------------------------------------------------------------------------------

USER_CREATED = event_declare("user.created", app="commerce_hub", fields=("user_id", "role"))
USER_DEACTIVATED = event_declare("user.deactivated", app="commerce_hub", fields=("user_id",))
USER_INVITED = event_declare("user.invited", app="commerce_hub", fields=("invitation_id", "role"))
ORGANIZATION_UPDATED = event_declare("organization.updated", app="commerce_hub", fields=("fields",))
