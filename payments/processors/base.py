"""The one interface every payment processor implements. Services call it only outside database transactions
(the attempt row is committed first, the outcome recorded after): see payments/services/payments.py.

Two kinds of failure are told apart because they are handled in opposite ways:
- ProcessorDeclined: the processor answered no (a declined card, an invalid IBAN). Nothing was charged; the buyer
  may try again with another method.
- ProcessorUnreachable: no answer (a timeout, a dropped connection, a 5xx). The charge may or may not have happened;
  the attempt stays "created" and the reconciliation job asks the processor by the attempt's idempotency key. It is
  never retried blindly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


class ProcessorError(Exception):
    def __init__(self, message: str, *, code: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message


class ProcessorDeclined(ProcessorError):
    """A definite no: nothing was charged or refunded."""


class ProcessorUnreachable(ProcessorError):
    """No answer: the outcome is unknown and must be asked for later, never assumed."""


@dataclass(frozen=True)
class PaymentRequest:
    idempotency_key: str
    amount: Decimal
    currency: str
    method: str  # payments.models.MethodKind
    description: str
    # What the buyer entered for the built-in processor (card number, IBAN and mandate acceptance, account and
    # routing numbers) or a processor's payment method id (Stripe.js's pm_...).
    method_data: dict = field(default_factory=dict)
    return_url: str = ""  # where a bank or wallet page sends the buyer back
    customer_email: str = ""
    metadata: dict = field(default_factory=dict)
    saved_method_reference: str = ""
    off_session: bool = False


@dataclass(frozen=True)
class PaymentResult:
    reference: str  # the processor's id for the payment (Stripe's PaymentIntent id)
    status: str  # payments.models.PaymentStatus
    amount: Decimal
    currency: str
    fee: Decimal | None = None
    # When the collected money becomes available for payout (the processor's settlement delay).
    available_on: date | None = None
    next_action: dict = field(default_factory=dict)
    method_details: dict = field(default_factory=dict)
    failure_code: str = ""
    failure_message: str = ""
    # The processor's id for the balance movement of the charge (Stripe's balance transaction), when it has one.
    balance_reference: str = ""


@dataclass(frozen=True)
class RefundResult:
    reference: str
    status: str  # payments.models.RefundStatus
    amount: Decimal
    currency: str
    failure_message: str = ""
    balance_reference: str = ""


@dataclass(frozen=True)
class SetupResult:
    reference: str  # the saved method's id at the processor
    status: str  # "succeeded", "requires_action" or "failed"
    kind: str
    details: dict = field(default_factory=dict)
    next_action: dict = field(default_factory=dict)
    failure_message: str = ""


def event_decimal(value) -> Decimal | None:
    """An amount from a processor event's data (a decimal string), or None when it is not a finite number."""
    try:
        amount = Decimal(str(value))
    except (ArithmeticError, TypeError, ValueError):
        return None
    return amount if amount.is_finite() else None


@dataclass(frozen=True)
class ProcessorEvent:
    """A processor's event in our terms; payments/services/processor_events.py applies it. `kind` is one of
    payment.succeeded, payment.processing, payment.failed, refund.updated, dispute.opened, dispute.updated,
    dispute.closed, payout.created, payout.updated."""

    kind: str
    reference: str  # the object it is about (a payment, refund, dispute or payout id at the processor)
    data: dict = field(default_factory=dict)


class Processor(ABC):
    key: str
    test_mode: bool = False
    # Whether payouts are computed here from the processor balance (built-in) or reported by the processor.
    computes_payouts: bool = False

    @abstractmethod
    def payment_create(self, request: PaymentRequest) -> PaymentResult:
        """Create and confirm a payment. The same idempotency key returns the same payment."""

    @abstractmethod
    def payment_retrieve(self, *, reference: str = "", idempotency_key: str = "") -> PaymentResult | None:
        """The payment's state, found by its id or, when the creating call's answer was lost, by the idempotency key
        it was created with. None when the processor never saw it."""

    @abstractmethod
    def payment_cancel(self, *, reference: str) -> PaymentResult:
        """Give up a payment that is waiting for the buyer (an abandoned bank redirect)."""

    @abstractmethod
    def refund_create(
        self, *, payment_reference: str, amount: Decimal, currency: str, idempotency_key: str, reason: str
    ) -> RefundResult: ...

    @abstractmethod
    def refund_retrieve(self, *, idempotency_key: str, payment_reference: str) -> RefundResult | None: ...

    @abstractmethod
    def setup_create(self, *, idempotency_key: str, method: str, method_data: dict, customer_email: str) -> SetupResult:
        """Save a payment method for later off-session charges."""


def outside_transaction_required(what: str) -> None:
    """Refuse to call a processor from inside a transaction: a rollback after the call would forget a charge the
    processor made. The transaction a test case wraps around each test does not count (it holds no work of ours)."""
    from django.db import connection

    if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        raise RuntimeError(f"{what} is never called inside a database transaction.")
