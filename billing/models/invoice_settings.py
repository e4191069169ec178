from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS


class PaymentMethod(models.TextChoices):
    CARD = "card", _("Card")
    BANK_DEBIT = "bank_debit", _("Bank debit")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")


class LateFeeMode(models.TextChoices):
    NONE = "none", _("No late fee")
    FIXED = "fixed", _("A fixed amount")
    STATUTORY = "statutory", _("Statutory interest")


class NumberSeries(models.Model):
    """The counter of one document number series ("invoice", "credit_note"): the next number and its prefix.

    The row is the lock: finalizing takes it with SELECT ... FOR UPDATE inside its transaction, so numbers are
    handed out one at a time, and a rolled-back finalization rolls the counter back with it (no gap).
    """

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    QUOTE = "quote"

    key = models.CharField(max_length=20, unique=True)
    prefix = models.CharField(_("number prefix"), max_length=12)
    next_number = models.PositiveBigIntegerField(_("start number"))
    # The highest number handed out so far (None: none yet); a new start number must be above it.
    last_used = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(next_number__gte=1), name="billing_series_positive")]

    def __str__(self):
        return f"{self.key}: {self.prefix}-{self.next_number}"


class InvoiceSettings(models.Model):
    """What every new invoice starts with and what its PDF prints. Exactly one row per tenant (pk=1)."""

    payment_methods = models.JSONField(_("accepted payment methods"), default=list, blank=True)
    payment_terms_days = models.PositiveIntegerField(_("payment terms (days)"), default=14)
    footer_text = models.TextField(_("footer"), blank=True)
    legal_text = models.TextField(_("legal text"), blank=True)
    bank_account_holder = models.CharField(_("account holder"), max_length=70, blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    email = models.EmailField(_("reply-to email for invoices"), blank=True)
    # Customer credit (overpayments, credit notes kept as credit) pays the customer's next invoice in the same
    # currency when it is finalized; off, finance staff apply it by hand from the invoice.
    credit_auto_apply = models.BooleanField(_("apply customer credit to new invoices automatically"), default=True)
    # Reminders
    reminders_enabled = models.BooleanField(_("send payment reminders"), default=True)
    skip_weekends = models.BooleanField(_("do not send reminders on weekends"), default=True)
    # Late fees: invoiced separately, never by changing the overdue invoice.
    late_fee_mode = models.CharField(_("late fee"), max_length=10, choices=LateFeeMode.choices, default="none")
    # A fixed fee is an amount in its own currency; an overdue invoice in another currency is charged the amount
    # converted at the exchange rate of the day (no rate: no fixed fee).
    late_fee_amount = models.DecimalField(
        _("fixed late fee"), max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, default=Decimal(0)
    )
    late_fee_currency = models.CharField(_("currency of the fixed late fee"), max_length=3, default="EUR")
    late_fee_interest_rate = models.DecimalField(
        _("yearly interest rate (%)"), max_digits=6, decimal_places=3, default=Decimal("10.150")
    )
    late_fee_after_days = models.PositiveIntegerField(_("days after the due date"), default=30)
    # Days after an invoice is paid that its hosted link stops working (None: it keeps working).
    hosted_link_expiry_days = models.PositiveIntegerField(
        _("hosted links expire after payment (days)"), null=True, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="billing_invoice_settings_singleton")]

    def __str__(self):
        return "Invoice settings"

    @property
    def late_fee(self) -> Money:
        return Money(self.late_fee_amount, self.late_fee_currency)


class ReminderStep(models.Model):
    """One step of the reminder schedule: days relative to the due date (-3 = three days before)."""

    class Kind(models.TextChoices):
        UPCOMING = "upcoming", _("Friendly reminder")
        REMINDER = "reminder", _("Payment reminder")
        FINAL_NOTICE = "final_notice", _("Formal notice")

    offset_days = models.IntegerField(_("days from the due date"), unique=True)
    kind = models.CharField(_("kind"), max_length=14, choices=Kind.choices)

    class Meta:
        ordering = ["offset_days"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(offset_days__gte=-60, offset_days__lte=365), name="billing_reminder_offset_range"
            )
        ]

    def __str__(self):
        return f"{self.offset_days:+d}"
