"""Payments' domain events: names, payload fields and versions (see commerce_hub.events.catalogue)."""

from commerce_hub.events.catalogue import event_declare

APP = "payments"
_PAYMENT = ("id", "amount", "currency")

PAYMENT_PROCESSING = event_declare("payment.processing", app=APP, fields=_PAYMENT, optional=("invoice_id",))
PAYMENT_SUCCEEDED = event_declare("payment.succeeded", app=APP, fields=_PAYMENT, optional=("invoice_id",))
PAYMENT_FAILED = event_declare(
    "payment.failed", app=APP, fields=_PAYMENT, optional=("invoice_id", "failure_code", "failure_message")
)
REFUND_SUCCEEDED = event_declare(
    "refund.succeeded", app=APP, fields=("id", "payment_id", "amount", "currency"), optional=("mode",)
)
REFUND_FAILED = event_declare("refund.failed", app=APP, fields=("id", "payment_id", "amount", "currency"))
DISPUTE_OPENED = event_declare("dispute.opened", app=APP, fields=("id", "payment_id", "amount", "currency"))
DISPUTE_CLOSED = event_declare("dispute.closed", app=APP, fields=("id", "payment_id", "amount", "currency", "status"))
PAYOUT_CREATED = event_declare("payout.created", app=APP, fields=("id", "amount", "currency"))
PAYOUT_PAID = event_declare("payout.paid", app=APP, fields=("id", "amount", "currency"))
PAYOUT_FAILED = event_declare("payout.failed", app=APP, fields=("id", "amount", "currency"))
