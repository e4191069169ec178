"""Sections that the other quote features add to a quote's record page (approval, signers, payment, schedule),
without the record page knowing them: the way crm.panels takes panels.

A feature registers from its billing/setup/<feature>.py register():

    quote_detail_sections_register(
        name="approval", template="billing/quotes/_approval.html", context_fn=approval_context, order=10
    )

The page renders the sections in `order` (then name) in its main column, after the document, each as
`{% include section.template with section=<its context> %}`, with the page's own context (quote, can_edit, ...)
still visible. `context_fn(request, quote)` returns the section's context, or None to leave the section out (a
quote without approvals needs no approval section). Registering the same name again replaces the section.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class QuoteDetailSection:
    name: str
    template: str
    context_fn: Callable | None  # context_fn(request, quote) -> dict | None
    order: int


_sections: dict[str, QuoteDetailSection] = {}


def quote_detail_sections_register(
    name: str, template: str, context_fn: Callable | None = None, order: int = 100
) -> None:
    _sections[name] = QuoteDetailSection(name=name, template=template, context_fn=context_fn, order=order)


def quote_detail_sections_unregister(name: str) -> None:
    _sections.pop(name, None)


def quote_detail_sections(request, quote) -> list[tuple[QuoteDetailSection, dict]]:
    """The sections to show on this quote's page, in order, each with its context."""
    shown = []
    for section in sorted(_sections.values(), key=lambda s: (s.order, s.name)):
        context = section.context_fn(request, quote) if section.context_fn is not None else {}
        if context is not None:
            shown.append((section, context))
    return shown
