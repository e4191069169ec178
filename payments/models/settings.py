from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from payments.models.choices import PayoutSchedule, ProcessorKey

_RATE = {"max_digits": 6, "decimal_places": 3}
_FEE = {"max_digits": 12, "decimal_places": 4}


class PaymentSettings(models.Model):
    """How a tenant takes payments: its processor, the built-in processor's fees and payout schedule, Stripe's keys,
    and the receipt's branding. Exactly one row per tenant (pk=1)."""

    processor = models.CharField(
        _("payment processor"), max_length=10, choices=ProcessorKey.choices, default=ProcessorKey.BUILTIN
    )

    # Stripe: each tenant connects its own account. The secret key and the webhook signing secrets are stored
    # encrypted (payments/crypto.py) and never shown again; the last four characters identify them on screen.
    stripe_publishable_key = models.CharField(_("Stripe publishable key"), max_length=200, blank=True)
    stripe_secret_key_encrypted = models.TextField(blank=True)
    stripe_secret_key_hint = models.CharField(max_length=12, blank=True)
    # Several secrets during a rotation: a webhook signed with any of them is accepted.
    stripe_webhook_secrets_encrypted = models.JSONField(default=list, blank=True)

    # The built-in processor's fee schedule: a percentage plus a fixed amount for cards, wallets and bank redirects,
    # a capped percentage for bank debits. Fixed amounts and the cap are in the payment's currency.
    card_fee_percent = models.DecimalField(_("card fee (%)"), default=Decimal("1.400"), **_RATE)
    card_fee_fixed = models.DecimalField(_("card fee, fixed part"), default=Decimal("0.25"), **_FEE)
    redirect_fee_fixed = models.DecimalField(_("iDEAL and wallet fee, fixed"), default=Decimal("0.29"), **_FEE)
    redirect_fee_percent = models.DecimalField(_("iDEAL and wallet fee (%)"), default=Decimal("0"), **_RATE)
    debit_fee_percent = models.DecimalField(_("bank debit fee (%)"), default=Decimal("0.800"), **_RATE)
    debit_fee_cap = models.DecimalField(_("bank debit fee cap"), default=Decimal("5.00"), **_FEE)
    dispute_fee = models.DecimalField(_("dispute fee"), default=Decimal("15.00"), **_FEE)

    # Money becomes available for payout this many days after it was collected (the settlement delay).
    settlement_delay_days = models.PositiveSmallIntegerField(_("settlement delay (days)"), default=2)
    # A bank debit stays processing this many days before it settles or fails.
    debit_processing_days = models.PositiveSmallIntegerField(_("bank debits settle after (days)"), default=3)
    payout_schedule = models.CharField(
        _("payout schedule"), max_length=10, choices=PayoutSchedule.choices, default=PayoutSchedule.DAILY
    )
    payout_weekday = models.PositiveSmallIntegerField(_("weekly payout day"), default=0)  # 0 = Monday
    payout_monthday = models.PositiveSmallIntegerField(_("monthly payout day"), default=1)

    receipt_footer = models.TextField(_("receipt footer"), blank=True)
    receipt_accent_color = models.CharField(_("accent colour"), max_length=7, default="#1f6feb")

    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="payments_settings_singleton")]

    def __str__(self):
        return "Payment settings"
