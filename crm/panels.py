"""Panels that apps above the CRM add to record pages (billing adds the deal's line items), without crm knowing
them: the same way the timeline takes providers."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    name: str
    object_type: str
    order: int
    permission: str
    template: str
    context: Callable  # context(request, record) -> dict


_panels: dict[tuple[str, str], Panel] = {}


def register_panel(*, name: str, object_type: str, order: int, permission: str, template: str, context) -> None:
    _panels[(object_type, name)] = Panel(name, object_type, order, permission, template, context)


def panels_for(request, record, object_type: str) -> list[tuple[Panel, dict]]:
    visible = sorted(
        (p for p in _panels.values() if p.object_type == object_type and request.user.has_perm(p.permission)),
        key=lambda p: p.order,
    )
    return [(panel, panel.context(request, record)) for panel in visible]
