from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    """A domain event, written in the same transaction as the change it describes."""

    name = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.name} #{self.pk}"


class Delivery(models.Model):
    """One handler's receipt of one event. Unique per (event, handler): a handler sees an event once."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"  # gave up after MAX_ATTEMPTS; an admin can retry it

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    handler = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["event", "handler"], name="events_delivery_once")]
        indexes = [
            # The sweep reads only pending rows that are due; a partial index keeps that cheap forever.
            models.Index(fields=["next_attempt_at"], name="events_delivery_due", condition=models.Q(status="pending")),
            models.Index(fields=["status", "-id"], name="events_delivery_status"),
        ]

    def __str__(self):
        return f"{self.handler} ({self.status})"


class OutgoingEmail(models.Model):
    """An email waiting to be sent, written in the transaction that caused it, so a broker outage loses nothing.

    Once sent, the bodies are cleared: they may carry a sign-in or invitation link that must not outlive its use.
    """

    to = models.EmailField()
    subject = models.CharField(max_length=300)
    text = models.TextField(blank=True)
    html = models.TextField(blank=True)
    reply_to = models.EmailField(blank=True)
    # Files attached when the email goes out, each {"provider": name, "id": ...}: an app above the platform
    # registers the provider (commerce_hub.mail.attachment_provider) that returns the file at sending time.
    attachments = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="events_email_due", condition=models.Q(sent_at__isnull=True))
        ]

    def __str__(self):
        return f"{self.subject} → {self.to}"
