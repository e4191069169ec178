"""The built-in processor's own books: what a real processor keeps on its side. The app talks to it only through
payments/processors/builtin.py, outside the app's own transactions, as it would talk to Stripe over HTTP; keeping
these rows apart from Payment is what lets the tests lose an answer (a timeout after the charge) and see the
reconciliation job find the charge instead of making another."""

from django.db import models
from django.utils import timezone

from payments.models.payments import MONEY


class SimulatedObject(models.Model):
    class Kind(models.TextChoices):
        PAYMENT = "payment"
        REFUND = "refund"
        SETUP = "setup"
        DISPUTE = "dispute"

    object_id = models.CharField(max_length=60, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The caller's idempotency key: the same key returns the first object, never a second charge.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    parent_id = models.CharField(max_length=60, blank=True)  # a refund's or dispute's payment
    amount = models.DecimalField(null=True, blank=True, **MONEY)
    currency = models.CharField(max_length=3, blank=True)
    method = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20)
    data = models.JSONField(default=dict, blank=True)
    # A debit settles or fails, a dispute is decided, at this time (a beat job moves them).
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["due_at"], condition=models.Q(due_at__isnull=False), name="payments_sim_due")]
