from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing.models import CreditNote
from payments.models.choices import DisputeStatus, RefundMode, RefundStatus
from payments.models.payments import MONEY, Payment


class Refund(models.Model):
    """Money sent back to the buyer from a payment. Written (pending) and committed before the processor is called;
    a pending refund counts against what is still refundable, so concurrent requests never exceed the capture."""

    class Reason(models.TextChoices):
        REQUESTED = "requested_by_customer", "requested_by_customer"
        DUPLICATE = "duplicate", "duplicate"
        FRAUDULENT = "fraudulent", "fraudulent"
        OTHER = "other", "other"

    public_id = models.CharField(max_length=40, unique=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    mode = models.CharField(max_length=12, choices=RefundMode.choices)
    reason = models.CharField(max_length=24, choices=Reason.choices, default=Reason.REQUESTED)
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING)
    processor_reference = models.CharField(max_length=120, null=True, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    # The credit note issued with it when the goods or service were credited too.
    credit_note = models.ForeignKey(CreditNote, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    called_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_refund_positive"),
            models.UniqueConstraint(
                fields=["payment", "processor_reference"], name="payments_refund_processor_reference"
            ),
        ]

    @property
    def processor_idempotency_key(self) -> str:
        return f"commerce-hub-refund-{self.public_id}"


class Dispute(models.Model):
    """A buyer's bank pulled the money back (a chargeback) pending review. The processor withdraws the amount and a
    fee at once; a won dispute returns the amount, a lost one makes the invoice owe it again."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    processor_reference = models.CharField(max_length=120, unique=True)
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=60, blank=True)
    status = models.CharField(max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.NEEDS_RESPONSE)
    evidence_due_by = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
