from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotencyKey(models.Model):
    """One claimed idempotency key: the first request's fingerprint and, once it is done, its result.

    A row is inserted in the same transaction as the write it protects (services.idempotency_key_claim), so a
    committed "done" row always has its write beside it. Rows are pruned after KEEP (services.py).
    """

    class Status(models.TextChoices):
        # Only seen committed by callers that commit between the claim and its outcome (a processor call).
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"

    scope = models.CharField(max_length=100)  # the action, e.g. "invoice.finalize"
    key = models.CharField(max_length=255)
    # sha256 of the canonical parameters, the target object and the user: the same key with others is refused.
    fingerprint = models.CharField(max_length=64)
    target = models.CharField(max_length=200, blank=True)  # "billing.invoice:42", for people reading the table
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_location = models.CharField(max_length=2000, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_once")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_key_created")]

    def __str__(self):
        return f"{self.scope} {self.key} ({self.status})"
