"""Choices shared by products and line items; the values are the pricing engine's (billing.pricing)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Frequency(models.TextChoices):
    ONE_TIME = "one_time", _("One-time")
    WEEKLY = "weekly", _("Weekly")
    BIWEEKLY = "biweekly", _("Every two weeks")
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    SEMIANNUAL = "semiannual", _("Every six months")
    ANNUAL = "annual", _("Annually")
    BIENNIAL = "biennial", _("Every two years")
    TRIENNIAL = "triennial", _("Every three years")
    QUADRENNIAL = "quadrennial", _("Every four years")
    QUINQUENNIAL = "quinquennial", _("Every five years")


class PricingModel(models.TextChoices):
    FLAT = "flat", _("Flat price")
    VOLUME = "volume", _("Volume tiers")
    GRADUATED = "graduated", _("Graduated tiers")
    PACKAGE = "package", _("Package")


class DiscountType(models.TextChoices):
    PERCENT = "percent", _("Percentage")
    AMOUNT = "amount", _("Amount per unit")


class BillingStart(models.TextChoices):
    CHECKOUT = "checkout", _("At checkout")
    DATE = "date", _("On a date")
    DELAY_DAYS = "delay_days", _("After a number of days")
    DELAY_MONTHS = "delay_months", _("After a number of months")


class AdjustmentKind(models.TextChoices):
    DISCOUNT = "discount", _("Discount")
    FEE = "fee", _("Fee")
    TAX = "tax", _("Tax")
