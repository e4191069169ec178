"""Handlers subscribe to catalogued events (commerce_hub.events.catalogue).

A handler is called as `fn(event, delivery_id=...)`, outside any transaction, and must be idempotent: delivery is
at least once (a worker that dies after the handler's effect but before the outcome is recorded runs it again).
Use the delivery id to make the effect happen once: `delivery_once` for database writes, or an idempotency key
derived from it (`delivery_idempotency_key`) for an HTTP API.
"""

from collections import defaultdict
from collections.abc import Callable

from commerce_hub.events.catalogue import EventType, event_type_get

_handlers: dict[str, dict[str, Callable]] = defaultdict(dict)


def handler(event: EventType | str, *, name: str | None = None):
    """Register `fn(event, delivery_id)` for a catalogued event. The name is stored on deliveries: keep it stable."""
    event_name = event_type_get(event).name  # refuses an event that is not in the catalogue

    def register(fn):
        key = name or f"{fn.__module__}.{fn.__qualname__}"
        _handlers[event_name][key] = fn
        return fn

    return register


def handlers_for(event_name: str) -> dict[str, Callable]:
    return dict(_handlers.get(event_name, {}))


def handler_by_name(name: str) -> Callable | None:
    for handlers in _handlers.values():
        if name in handlers:
            return handlers[name]
    return None


def unregister(event: EventType | str, name: str) -> None:
    _handlers.get(str(event), {}).pop(name, None)
