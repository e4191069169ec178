from payments.models.balance import BalanceEntry, Payout, PayoutItem
from payments.models.builtin import SimulatedObject
from payments.models.choices import (
    DISPUTE_OPEN,
    PAYMENT_ACTIVE,
    PAYMENT_FINAL,
    BalanceKind,
    DisputeStatus,
    MethodKind,
    PaymentStatus,
    PayoutSchedule,
    PayoutStatus,
    ProcessorKey,
    RefundMode,
    RefundStatus,
    WebhookStatus,
)
from payments.models.payments import Payment, PaymentEvent, SavedPaymentMethod
from payments.models.receipts import Receipt
from payments.models.refunds import Dispute, Refund
from payments.models.settings import PaymentSettings
from payments.models.webhooks import WebhookEvent

__all__ = [
    "DISPUTE_OPEN",
    "PAYMENT_ACTIVE",
    "PAYMENT_FINAL",
    "BalanceEntry",
    "BalanceKind",
    "Dispute",
    "DisputeStatus",
    "MethodKind",
    "Payment",
    "PaymentEvent",
    "PaymentSettings",
    "PaymentStatus",
    "Payout",
    "PayoutItem",
    "PayoutSchedule",
    "PayoutStatus",
    "ProcessorKey",
    "Receipt",
    "Refund",
    "RefundMode",
    "RefundStatus",
    "SavedPaymentMethod",
    "SimulatedObject",
    "WebhookEvent",
    "WebhookStatus",
]
