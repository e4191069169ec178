from django.db import models
from django.utils import timezone

from payments.models.choices import ProcessorKey, WebhookStatus


class WebhookEvent(models.Model):
    """A processor event as it arrived: the raw body is stored once its signature checks out, one row per event id
    (a redelivery finds the row and changes nothing), and processed later by a worker in the tenant's schema."""

    processor = models.CharField(max_length=10, choices=ProcessorKey.choices)
    event_id = models.CharField(max_length=120)
    event_type = models.CharField(max_length=80)
    # The processor's own creation time: events are applied in this order, whatever order they arrive in.
    event_created = models.DateTimeField()
    body = models.TextField()
    status = models.CharField(max_length=10, choices=WebhookStatus.choices, default=WebhookStatus.RECEIVED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["event_created", "id"]
        constraints = [models.UniqueConstraint(fields=["processor", "event_id"], name="payments_webhook_event_once")]
        indexes = [models.Index(fields=["status", "event_created"], name="payments_webhook_pending")]
