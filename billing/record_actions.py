"""Buttons that features add to a finalized invoice's record page and to each of its credit notes (an e-invoice
download, a push to an accounting system), without the page knowing them.

A feature registers `fn(request, invoice)` or `fn(request, credit_note)` returning (label, url), or None when it
has nothing to offer that user for that document. It runs on every view of the page: it reads little and writes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from billing.models import CreditNote, Invoice

Action = tuple[str, str]

_invoice_actions: list[Callable] = []
_credit_note_actions: list[Callable] = []


def register_invoice_action(fn: Callable[..., Action | None]) -> None:
    if fn not in _invoice_actions:
        _invoice_actions.append(fn)


def register_credit_note_action(fn: Callable[..., Action | None]) -> None:
    if fn not in _credit_note_actions:
        _credit_note_actions.append(fn)


def invoice_actions(request, invoice: Invoice) -> list[Action]:
    return [action for fn in _invoice_actions if (action := fn(request, invoice)) is not None]


def credit_note_actions(request, note: CreditNote) -> list[Action]:
    return [action for fn in _credit_note_actions if (action := fn(request, note)) is not None]
