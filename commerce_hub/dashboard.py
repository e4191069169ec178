"""The home page is made of widgets that apps register, so the platform never imports the apps above it."""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Widget:
    name: str
    order: int
    permission: str
    template: str
    context: Callable  # context(request) -> dict


_widgets: dict[str, Widget] = {}


def register_widget(*, name: str, order: int, permission: str, template: str, context: Callable) -> None:
    _widgets[name] = Widget(name, order, permission, template, context)


def widgets_for(request) -> list[tuple[Widget, dict]]:
    """The widgets this user may see, with their context, in order."""
    visible = sorted((w for w in _widgets.values() if request.user.has_perm(w.permission)), key=lambda w: w.order)
    return [(widget, widget.context(request)) for widget in visible]
