from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models.choices import Frequency, PricingModel
from billing.models.tax_rates import TaxRate

UNIT_PRICE = {"max_digits": 18, "decimal_places": 6}  # up to 6 decimals in any currency


class ProductFolder(models.Model):
    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Product(models.Model):
    class BundlePricing(models.TextChoices):
        WHOLE = "whole", _("One price for the bundle")
        SUM = "sum", _("Sum of its components")

    name = models.CharField(_("name"), max_length=200)
    sku = models.CharField(_("SKU"), max_length=64)
    description = models.TextField(_("description"), blank=True)
    folder = models.ForeignKey(
        ProductFolder,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="products",
        verbose_name=_("folder"),
    )
    unit_cost = models.DecimalField(_("unit cost"), null=True, blank=True, **UNIT_PRICE)
    cost_currency = models.CharField(_("cost currency"), max_length=3, blank=True)
    pricing_model = models.CharField(
        _("pricing model"), max_length=10, choices=PricingModel.choices, default=PricingModel.FLAT
    )
    package_size = models.DecimalField(_("package size"), max_digits=18, decimal_places=6, null=True, blank=True)
    billing_frequency = models.CharField(
        _("billing frequency"), max_length=12, choices=Frequency.choices, default=Frequency.ONE_TIME
    )
    term_months = models.PositiveIntegerField(_("term (months)"), null=True, blank=True)
    term_weeks = models.PositiveIntegerField(_("term (weeks)"), null=True, blank=True)
    tax_rate = models.ForeignKey(
        TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("tax rate")
    )
    is_bundle = models.BooleanField(default=False)
    bundle_pricing = models.CharField(max_length=5, choices=BundlePricing.choices, blank=True)
    is_archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(Lower("sku"), name="billing_product_sku_ci_unique")]
        indexes = [models.Index(fields=["is_archived", "name"], name="billing_product_active_name")]

    def __str__(self):
        return self.name


class ProductPrice(models.Model):
    """A product's unit price in one currency: a price list, so one product sells in EUR and NOK."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    currency = models.CharField(max_length=3)
    unit_price = models.DecimalField(**UNIT_PRICE)

    class Meta:
        ordering = ["product", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["product", "currency"], name="billing_price_one_per_currency"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="billing_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.unit_price} {self.currency}"


class PriceTier(models.Model):
    """One tier of a volume or graduated price, per currency; up_to is inclusive, NULL for 'and above'."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="tiers")
    currency = models.CharField(max_length=3)
    up_to = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    unit_price = models.DecimalField(**UNIT_PRICE)
    flat_fee = models.DecimalField(default=0, **UNIT_PRICE)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["product", "currency", "position"]

    def __str__(self):
        return f"≤ {self.up_to}: {self.unit_price}"


class BundleComponent(models.Model):
    bundle = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="components")
    component = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="in_bundles")
    quantity = models.DecimalField(max_digits=18, decimal_places=6, default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bundle", "component"], name="billing_bundle_component_once"),
            models.CheckConstraint(condition=~models.Q(bundle=models.F("component")), name="billing_bundle_not_self"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.component}"
