"""Subscriptions: recurring line items billed every period. Quote and payment link checkouts create them (one per
billing frequency and start date of their recurring lines), and staff create them by hand; their lines are LineItem
rows owned by the subscription.

Periods are counted from the billing anchor (the start date, the trial's end, or the date a paused subscription
resumed): period number n starts billing_date(anchor, n), so month ends never drift. The billing run bills period
`next_period_index` on `next_billing_date`, and one invoice per subscription and period start is a unique constraint
on Invoice, so two runs at once or a run started again can never bill a period twice.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models.choices import Frequency
from billing.models.invoices import Invoice
from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from crm.models import Company, Contact, Deal

_MONEY = {"max_digits": MONEY_MAX_DIGITS, "decimal_places": MONEY_DECIMAL_PLACES}


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
    source_purchase = models.ForeignKey(
        "billing.PaymentLinkPurchase", null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    start_date = models.DateField(_("start date"))
    # Period number 0 starts here: the start date, the day a trial ends, or the day a paused subscription resumed.
    billing_anchor = models.DateField()
    # The day of the month periods are anchored on (31: the last day of shorter months), from the billing anchor.
    anchor_day = models.PositiveSmallIntegerField()
    # The period (counted from the billing anchor) the next invoice bills, and how many periods were billed in all
    # (the term counts these, across pauses).
    next_period_index = models.PositiveIntegerField(default=0)
    periods_billed = models.PositiveIntegerField(default=0)
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
    # Free days before the first charge: the first period starts on trial_end (the billing anchor).
    trial_end = models.DateField(_("trial ends"), null=True, blank=True)
    trial_notice_sent_at = models.DateTimeField(null=True, blank=True)
    coupon = models.ForeignKey(
        "billing.Coupon", null=True, blank=True, on_delete=models.PROTECT, related_name="subscriptions"
    )
    # Periods the coupon still takes off (none with a coupon: forever).
    coupon_periods_left = models.PositiveIntegerField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    resume_on = models.DateField(_("resume on"), null=True, blank=True)  # a pause with an end date
    cancel_at_period_end = models.BooleanField(default=False)
    cancel_reason = models.CharField(_("reason"), max_length=300, blank=True)
    past_due_since = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Monthly recurring revenue of its lines (the pricing engine's MRR, after a forever coupon), in its currency:
    # kept on the row so revenue reports sum a column.
    mrr = models.DecimalField(default=0, **_MONEY)
    # The buyer's page for the subscription (update the payment method after a failed charge): 256 random bits.
    public_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # Test mode's simulated time: a subscription whose clock an admin moved lives on that clock (Stripe's test
    # clocks). The hourly run leaves it alone; it bills only when its clock is moved again.
    test_clock = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    canceled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_billing_date", "id"], name="billing_sub_due"),
            models.Index(fields=["deal"], name="billing_sub_deal"),
            models.Index(fields=["company"], name="billing_sub_company"),
            models.Index(fields=["contact"], name="billing_sub_contact"),
            models.Index(fields=["-created_at", "-id"], name="billing_sub_recent"),
            models.Index(fields=["status", "-created_at", "-id"], name="billing_sub_status_recent"),
            models.Index(fields=["trial_end"], condition=Q(trial_end__isnull=False), name="billing_sub_trial"),
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
            # One subscription per payment link purchase and frequency, for the same reason.
            models.UniqueConstraint(
                fields=["source_purchase", "frequency"],
                condition=Q(source_purchase__isnull=False),
                name="billing_sub_once_per_purchase",
            ),
            models.CheckConstraint(condition=Q(mrr__gte=0), name="billing_sub_mrr_not_negative"),
        ]

    def __str__(self):
        return self.name


class SubscriptionEvent(models.Model):
    """The subscription's timeline, append-only: created, billed, paused, resumed, changed, canceled, ended, a charge
    that failed or recovered, time simulated; who did it and the state before and after."""

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30)
    from_status = models.CharField(max_length=10, blank=True)
    to_status = models.CharField(max_length=10, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["subscription", "at"], name="billing_sub_event_sub")]


class CouponDuration(models.TextChoices):
    ONCE = "once", _("Once")
    REPEATING = "repeating", _("For a number of periods")
    FOREVER = "forever", _("Forever")


class Coupon(models.Model):
    """A discount on a subscription's invoices: a percentage or an amount off (in the coupon's currency), once, for a
    number of billing periods, or forever (Stripe's and Chargebee's coupons)."""

    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("code"), max_length=40, blank=True)
    percent_off = models.DecimalField(_("percent off"), max_digits=7, decimal_places=4, null=True, blank=True)
    amount_off = models.DecimalField(_("amount off"), null=True, blank=True, **_MONEY)
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    duration = models.CharField(_("duration"), max_length=10, choices=CouponDuration.choices)
    duration_periods = models.PositiveIntegerField(_("periods"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(percent_off__isnull=False, amount_off__isnull=True)
                    | Q(percent_off__isnull=True, amount_off__isnull=False)
                ),
                name="billing_coupon_percent_or_amount",
            ),
            models.CheckConstraint(
                condition=Q(percent_off__isnull=True) | Q(percent_off__gt=0, percent_off__lte=100),
                name="billing_coupon_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(amount_off__isnull=True) | (Q(amount_off__gt=0) & ~Q(currency="")),
                name="billing_coupon_amount_currency",
            ),
            models.CheckConstraint(
                condition=~Q(duration="repeating") | Q(duration_periods__gte=1), name="billing_coupon_periods"
            ),
            models.UniqueConstraint(fields=["code"], condition=~Q(code=""), name="billing_coupon_code"),
        ]

    def __str__(self):
        return self.name


class AfterFinalRetry(models.TextChoices):
    CANCEL = "cancel", _("Cancel the subscription")
    LEAVE_OPEN = "leave_open", _("Leave the invoice open and the subscription past due")


def default_retry_days() -> list[int]:
    return [1, 3, 5, 7]


class SubscriptionSettings(models.Model):
    """One row per tenant (pk 1): dunning and trial reminders."""

    # Days after the first failed charge on which it is tried again (Stripe's smart retries default to about 4).
    retry_days = models.JSONField(_("retry after (days)"), default=default_retry_days)
    after_final_retry = models.CharField(
        _("after the last retry"), max_length=12, choices=AfterFinalRetry.choices, default=AfterFinalRetry.CANCEL
    )
    trial_reminder_days = models.PositiveIntegerField(_("email before a trial ends (days)"), default=3)

    class Meta:
        verbose_name = "subscription settings"


class DunningStatus(models.TextChoices):
    ACTIVE = "active", _("Retrying")
    RECOVERED = "recovered", _("Recovered")
    EXHAUSTED = "exhausted", _("Retries exhausted")
    STOPPED = "stopped", _("Stopped")


class InvoiceDunning(models.Model):
    """Collecting a subscription invoice whose automatic charge failed: the retries made and the next one. One per
    invoice; it stops the moment the invoice is paid (no retry ever runs for a paid invoice)."""

    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="dunning")
    subscription = models.ForeignKey(Subscription, on_delete=models.PROTECT, related_name="dunning_cases")
    status = models.CharField(max_length=10, choices=DunningStatus.choices, default=DunningStatus.ACTIVE)
    failures = models.PositiveIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["next_retry_at", "id"], condition=Q(status="active"), name="billing_dunning_due"),
            models.Index(fields=["subscription", "-created_at"], name="billing_dunning_sub"),
        ]
