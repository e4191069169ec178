"""Payment processors behind one interface (base.py): the built-in test-mode processor and Stripe.
`processor_for_tenant()` returns the one the current tenant chose in its payment settings."""

from __future__ import annotations

from payments.processors.base import (
    PaymentRequest,
    PaymentResult,
    Processor,
    ProcessorDeclined,
    ProcessorError,
    ProcessorEvent,
    ProcessorUnreachable,
    RefundResult,
    SetupResult,
)

__all__ = [
    "PaymentRequest",
    "PaymentResult",
    "Processor",
    "ProcessorDeclined",
    "ProcessorError",
    "ProcessorEvent",
    "ProcessorUnreachable",
    "RefundResult",
    "SetupResult",
    "processor_get",
    "processor_for_tenant",
]


def processor_get(key: str) -> Processor:
    from payments.models import ProcessorKey

    if key == ProcessorKey.STRIPE:
        from payments.processors.stripe import StripeProcessor

        return StripeProcessor.for_tenant()
    from payments.processors.builtin import BuiltinProcessor

    return BuiltinProcessor()


def processor_for_tenant() -> Processor:
    from payments.selectors.settings import payment_settings

    return processor_get(payment_settings().processor)
