from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TaxRate(models.Model):
    """A VAT rate. Once a finalized document uses it (locked_at is set), it can only be archived, never edited."""

    class Category(models.TextChoices):
        STANDARD = "standard", _("Standard")
        REDUCED = "reduced", _("Reduced")
        ZERO = "zero", _("Zero")
        EXEMPT = "exempt", _("Exempt")
        REVERSE_CHARGE = "reverse_charge", _("Reverse charge")

    name = models.CharField(_("name"), max_length=100)
    rate = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    country = models.CharField(_("country"), max_length=2, blank=True)
    is_archived = models.BooleanField(default=False)
    locked_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["country", "position", "-rate", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(rate__gte=0, rate__lte=100), name="billing_taxrate_0_100"),
            models.CheckConstraint(
                condition=~models.Q(category__in=["zero", "exempt", "reverse_charge"]) | models.Q(rate=0),
                name="billing_taxrate_zero_categories_are_zero",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_reverse_charge(self) -> bool:
        return self.category == self.Category.REVERSE_CHARGE
