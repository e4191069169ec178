"""Handlers subscribe to event names. A handler must be idempotent: delivery is at least once."""

from collections import defaultdict
from collections.abc import Callable

_handlers: dict[str, dict[str, Callable]] = defaultdict(dict)


def handler(event_name: str, *, name: str | None = None):
    """Register `fn(event)` for `event_name` ("*" for every event). The name is stored on deliveries: keep it stable."""

    def register(fn):
        key = name or f"{fn.__module__}.{fn.__qualname__}"
        _handlers[event_name][key] = fn
        return fn

    return register


def handlers_for(event_name: str) -> dict[str, Callable]:
    return {**_handlers.get("*", {}), **_handlers.get(event_name, {})}


def handler_by_name(name: str) -> Callable | None:
    for handlers in _handlers.values():
        if name in handlers:
            return handlers[name]
    return None


def unregister(event_name: str, name: str) -> None:
    _handlers.get(event_name, {}).pop(name, None)
