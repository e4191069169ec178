from django.db import models
from django.utils import timezone

from payments.models.payments import Payment


class Receipt(models.Model):
    """Proof of a successful payment for the buyer: numbered in its own gap-free series, branded, with a PDF."""

    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="receipt")
    number = models.CharField(max_length=40, unique=True)
    issued_at = models.DateTimeField(default=timezone.now)
    pdf_path = models.CharField(max_length=300, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
