"""The seam through which an app above billing (payments) collects a subscription's invoices automatically.

Billing bills; taking money from a saved payment method is the payments app's. The billing run hands the invoices it
finalized for subscriptions that charge automatically to the registered collector, after its transaction committed
(the collector starts the off-session charges, each with an idempotency key derived from the invoice). With no
collector registered, or for a subscription without a saved payment method, the invoice is emailed instead, so
nothing goes uncollected silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

# fn(*, invoice_ids: list[int]) -> None: start collecting these finalized invoices (idempotent per invoice).
_collector: Callable[..., None] | None = None


def subscription_collector_register(fn: Callable[..., None] | None) -> None:
    global _collector
    _collector = fn


def subscription_collector_available() -> bool:
    return _collector is not None


def subscription_invoices_collect(*, invoice_ids: Iterable[int]) -> None:
    """Hand finalized subscription invoices to the collector. Call after commit; callers check availability first
    and email the invoices when there is none."""
    ids = list(invoice_ids)
    if ids and _collector is not None:
        _collector(invoice_ids=ids)
