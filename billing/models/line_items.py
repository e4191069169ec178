from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models.choices import AdjustmentKind, BillingStart, DiscountType, Frequency, PricingModel
from billing.models.products import UNIT_PRICE, Product
from billing.models.tax_rates import TaxRate
from crm.models import Deal


class LineItem(models.Model):
    """A line on a commercial document. It copies the product's values when added; editing it changes only this
    document. Deals, invoices, quotes, subscriptions and payment links own lines."""

    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="line_items")
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.CASCADE, related_name="line_items"
    )
    quote = models.ForeignKey(
        "billing.Quote", null=True, blank=True, on_delete=models.CASCADE, related_name="line_items"
    )
    subscription = models.ForeignKey(
        "billing.Subscription", null=True, blank=True, on_delete=models.CASCADE, related_name="line_items"
    )
    payment_link = models.ForeignKey(
        "billing.PaymentLink", null=True, blank=True, on_delete=models.CASCADE, related_name="line_items"
    )
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(Product, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    sku = models.CharField(_("SKU"), max_length=64, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=18, decimal_places=6, default=1)
    unit_price = models.DecimalField(_("unit price"), **UNIT_PRICE)
    currency = models.CharField(_("currency"), max_length=3)
    unit_cost = models.DecimalField(_("unit cost"), null=True, blank=True, **UNIT_PRICE)
    discount_type = models.CharField(_("discount"), max_length=8, choices=DiscountType.choices, blank=True)
    discount_value = models.DecimalField(_("discount value"), default=0, **UNIT_PRICE)
    tax_rate = models.ForeignKey(
        TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("tax rate")
    )
    pricing_model = models.CharField(max_length=10, choices=PricingModel.choices, default=PricingModel.FLAT)
    tiers = models.JSONField(default=list, blank=True)  # [{"up_to": "10", "unit_price": "5", "flat_fee": "0"}]
    package_size = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    frequency = models.CharField(
        _("billing frequency"), max_length=12, choices=Frequency.choices, default=Frequency.ONE_TIME
    )
    term_months = models.PositiveIntegerField(_("term (months)"), null=True, blank=True)
    term_weeks = models.PositiveIntegerField(_("term (weeks)"), null=True, blank=True)
    billing_start = models.CharField(
        _("billing start"), max_length=12, choices=BillingStart.choices, default=BillingStart.CHECKOUT
    )
    billing_start_date = models.DateField(null=True, blank=True)
    billing_start_delay = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["deal", "position"], name="billing_lineitem_deal"),
            models.Index(fields=["invoice", "position"], name="billing_lineitem_invoice"),
            models.Index(fields=["quote", "position"], name="billing_lineitem_quote"),
            models.Index(fields=["subscription", "position"], name="billing_lineitem_sub"),
            models.Index(fields=["payment_link", "position"], name="billing_lineitem_paylink"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=0), name="billing_line_quantity_not_negative"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="billing_line_price_not_negative"),
        ]

    def __str__(self):
        return self.name


class DocumentAdjustment(models.Model):
    """A one-time discount, fee or tax in a document's summary, on its subtotal."""

    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="adjustments")
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.CASCADE, related_name="adjustments"
    )
    quote = models.ForeignKey(
        "billing.Quote", null=True, blank=True, on_delete=models.CASCADE, related_name="adjustments"
    )
    kind = models.CharField(max_length=8, choices=AdjustmentKind.choices)
    label = models.CharField(max_length=120)
    percent = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    amount = models.DecimalField(null=True, blank=True, **UNIT_PRICE)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(percent__isnull=False, amount__isnull=True)
                    | models.Q(percent__isnull=True, amount__isnull=False)
                ),
                name="billing_adjustment_percent_or_amount",
            )
        ]

    def __str__(self):
        return self.label
