"""The states and kinds of payments' records, shared by models, services and templates."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ProcessorKey(models.TextChoices):
    BUILTIN = "builtin", _("Built-in (test mode)")
    STRIPE = "stripe", _("Stripe")


class MethodKind(models.TextChoices):
    """How a buyer pays at checkout. The invoice's accepted families (card, bank debit, bank transfer) decide which
    are offered, and the currency narrows them (iDEAL is EUR only, ACH is USD only)."""

    CARD = "card", _("Card")
    SEPA_DEBIT = "sepa_debit", _("SEPA Direct Debit")
    ACH_DEBIT = "ach_debit", _("ACH debit")
    IDEAL = "ideal", _("iDEAL")
    VIPPS_MOBILEPAY = "vipps_mobilepay", _("Vipps MobilePay")


class PaymentStatus(models.TextChoices):
    # The attempt row exists and the processor has not answered yet (or its answer was lost: the reconciliation job
    # asks the processor what happened, it never charges again).
    CREATED = "created", _("Starting")
    REQUIRES_ACTION = "requires_action", _("Waiting for the buyer")
    PROCESSING = "processing", _("Processing")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Cancelled")


# Statuses that can still end in money moving: at most one such payment per invoice at a time.
PAYMENT_ACTIVE = (PaymentStatus.CREATED, PaymentStatus.REQUIRES_ACTION, PaymentStatus.PROCESSING)
PAYMENT_FINAL = (PaymentStatus.SUCCEEDED, PaymentStatus.FAILED, PaymentStatus.CANCELED)


class RefundMode(models.TextChoices):
    REOPEN = "reopen", _("Refund and reopen the invoice's balance")
    CREDIT_NOTE = "credit_note", _("Refund with a credit note (goods or service credited)")
    CREDIT = "credit", _("Refund the customer's credit")


class RefundStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class DisputeStatus(models.TextChoices):
    NEEDS_RESPONSE = "needs_response", _("Needs response")
    UNDER_REVIEW = "under_review", _("Under review")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


DISPUTE_OPEN = (DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW)


class BalanceKind(models.TextChoices):
    CHARGE = "charge", _("Charge")
    FEE = "fee", _("Processing fee")
    REFUND = "refund", _("Refund")
    REFUND_FAILURE = "refund_failure", _("Refund returned")
    DISPUTE = "dispute", _("Dispute withdrawal")
    DISPUTE_FEE = "dispute_fee", _("Dispute fee")
    DISPUTE_REVERSAL = "dispute_reversal", _("Dispute won: funds returned")
    PAYOUT = "payout", _("Payout")
    PAYOUT_FAILURE = "payout_failure", _("Payout returned")


class PayoutStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    IN_TRANSIT = "in_transit", _("In transit")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    CANCELED = "canceled", _("Cancelled")


class PayoutSchedule(models.TextChoices):
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    MANUAL = "manual", _("Manual")


class WebhookStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    FAILED = "failed", _("Failed")
