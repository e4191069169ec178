from django.db import models
from django.utils import timezone


class ExchangeRate(models.Model):
    """1 unit of `base` = `rate` units of `quote`, from `valid_from` on. Entered by admins, for reports only:
    documents are always in their own currency."""

    base = models.CharField(max_length=3)
    quote = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=18, decimal_places=8)
    valid_from = models.DateField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["base", "quote", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["base", "quote", "valid_from"], name="billing_rate_once_per_day"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="billing_rate_positive"),
            models.CheckConstraint(condition=~models.Q(base=models.F("quote")), name="billing_rate_two_currencies"),
        ]

    def __str__(self):
        return f"1 {self.base} = {self.rate} {self.quote}"
