"""What features add to the action area of the buyer's hosted quote page (below the document, after signing):
payment's Pay button now, others later, without the hosted page knowing them.

A feature registers `fn(quote, publication)` from its billing/setup module. The hosted page calls
quote_hosted_actions(quote, publication) and includes each returned template with its context as `action`:

    {% for template, context in actions %}{% include template with action=context %}{% endfor %}

`fn` returns (template name, context dict), or None when it has nothing to show for this quote now. It runs on
every view of the page, so it reads little and writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from billing.models import Quote, QuotePublication

HostedAction = tuple[str, dict]

_actions: list[Callable[[Quote, QuotePublication], HostedAction | None]] = []


def quote_hosted_actions_register(fn: Callable[[Quote, QuotePublication], HostedAction | None]) -> None:
    if fn not in _actions:
        _actions.append(fn)


def quote_hosted_actions(quote: Quote, publication: QuotePublication) -> list[HostedAction]:
    """The (template, context) of every registered action with something to show, in registration order."""
    shown = []
    for fn in _actions:
        action = fn(quote, publication)
        if action is not None:
            shown.append(action)
    return shown
