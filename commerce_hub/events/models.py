from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


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
    """One handler's receipt of one event. Unique per (event, handler).

    A worker claims a pending, due delivery with a lease (`leased_until`), runs its handler outside any transaction
    and records the outcome; a worker that dies mid-handler leaves the lease to expire, and the sweep runs the
    delivery again. Failed attempts back off exponentially for at least three days (commerce_hub.events.backoff)
    before the delivery is marked failed, which shows it on the admin page and in the daily digest.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")  # gave up after MAX_ATTEMPTS; an admin can retry it

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    handler = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # Held by the worker running the handler; nobody else claims the delivery until it passes.
    leased_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

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
    Sending retries with the deliveries' backoff (at least three days); then the email is marked failed and waits
    on the admin page, with its bodies, for a retry.
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
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], name="events_email_due", condition=models.Q(sent_at__isnull=True))
        ]

    def __str__(self):
        return f"{self.subject} → {self.to}"


class DeliveryEffect(models.Model):
    """The mark of a handler's database effect, written in the effect's own transaction (delivery_once): a delivery
    run again after a crash or a failed attempt finds it and does not repeat the effect."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="effects")
    step = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["delivery", "step"], name="events_effect_once")]


class FailureDigest(models.Model):
    """One row per day on which the admins were emailed what failed: claimed in the transaction that queues the
    emails, so a periodic job that fires twice sends once."""

    day = models.DateField(unique=True)
    deliveries = models.PositiveIntegerField(default=0)
    emails = models.PositiveIntegerField(default=0)
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-day"]
