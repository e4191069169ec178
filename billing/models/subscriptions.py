"""Subscriptions: recurring line items billed every period. A quote's checkout creates them (one per billing
frequency and start date of its recurring lines); their lines are LineItem rows owned by the subscription."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models.choices import Frequency
from crm.models import Company, Contact, Deal


class SubscriptionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    PAST_DUE = "past_due", _("Past due")
    CANCELED = "canceled", _("Canceled")
    ENDED = "ended", _("Ended")


class CollectionMethod(models.TextChoices):
    CHARGE_AUTOMATICALLY = "charge_automatically", _("Charge the saved payment method")
    SEND_INVOICE = "send_invoice", _("Send an invoice")


class Subscription(models.Model):
    status = models.CharField(
        _("status"), max_length=10, choices=SubscriptionStatus.choices, default=SubscriptionStatus.SCHEDULED
    )
    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3)
    frequency = models.CharField(_("billing frequency"), max_length=12, choices=Frequency.choices)
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions")
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.SET_NULL, related_name="subscriptions")
    source_quote = models.ForeignKey(
        "billing.Quote", null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    start_date = models.DateField(_("start date"))
    # The day of the month periods are anchored on (31: the last day of shorter months), from the start date.
    anchor_day = models.PositiveSmallIntegerField()
    current_period_start = models.DateField(null=True, blank=True)
    current_period_end = models.DateField(null=True, blank=True)
    next_billing_date = models.DateField(_("next billing date"))
    term_periods = models.PositiveIntegerField(_("term (periods)"), null=True, blank=True)  # none: until canceled
    collection_method = models.CharField(
        _("collection method"),
        max_length=22,
        choices=CollectionMethod.choices,
        default=CollectionMethod.SEND_INVOICE,
    )
    payment_terms_days = models.PositiveIntegerField(_("payment terms (days)"), default=14)
    # The saved payment method (payments app) charged automatically, by its public id: billing never imports it.
    payment_method_ref = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    canceled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_billing_date", "id"], name="billing_sub_due"),
            models.Index(fields=["deal"], name="billing_sub_deal"),
            models.Index(fields=["company"], name="billing_sub_company"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(frequency="one_time"), name="billing_sub_recurring"),
            models.CheckConstraint(condition=Q(anchor_day__gte=1, anchor_day__lte=31), name="billing_sub_anchor_day"),
            # One subscription per quote, frequency and start date: a checkout run twice creates nothing new.
            models.UniqueConstraint(
                fields=["source_quote", "frequency", "start_date"],
                condition=Q(source_quote__isnull=False),
                name="billing_sub_once_per_quote_group",
            ),
        ]

    def __str__(self):
        return self.name
