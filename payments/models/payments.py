from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from billing.models import Invoice, InvoicePayment
from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from crm.models import Company, Contact, Deal
from payments.models.choices import PAYMENT_ACTIVE, MethodKind, PaymentStatus, ProcessorKey

MONEY = {"max_digits": MONEY_MAX_DIGITS, "decimal_places": MONEY_DECIMAL_PLACES}


class Payment(models.Model):
    """One attempt to take money through a processor (Stripe's PaymentIntent): written and committed before the
    processor is called, so a crash or a timeout leaves a row that the reconciliation job resolves by asking the
    processor, never by charging again.

    It succeeds once: the transition to succeeded and the money recorded on the invoice (billing's
    invoice_record_payment, which writes the receivables ledger) happen in one transaction."""

    public_id = models.CharField(max_length=40, unique=True)  # 128 random bits: names the attempt in buyer URLs
    # The checkout form's idempotency key: a double click, a second submit or a replayed post find this row.
    attempt_key = models.CharField(max_length=255, unique=True)
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    # Known once the processor reports it; net = amount - fee.
    fee = models.DecimalField(null=True, blank=True, **MONEY)
    method = models.CharField(max_length=20, choices=MethodKind.choices)
    # What the buyer may see again: card brand and last four digits, IBAN's last four, the bank, a mandate.
    method_details = models.JSONField(default=dict, blank=True)
    processor = models.CharField(max_length=10, choices=ProcessorKey.choices)
    processor_reference = models.CharField(max_length=120, null=True, blank=True)
    status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.CREATED)
    # A redirect or confirmation step the buyer must complete ({"type": "redirect", "url": ...}).
    next_action = models.JSONField(default=dict, blank=True)
    failure_code = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    buyer_email = models.EmailField(blank=True)
    buyer_name = models.CharField(max_length=200, blank=True)
    language = models.CharField(max_length=8, default="en")
    saved_method = models.ForeignKey(
        "payments.SavedPaymentMethod", null=True, blank=True, on_delete=models.SET_NULL, related_name="payments"
    )
    off_session = models.BooleanField(default=False)
    # The crash marker: set (and committed) just before the processor is called.
    called_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # The money recorded on the invoice when it succeeded.
    invoice_payment = models.OneToOneField(
        InvoicePayment, null=True, blank=True, on_delete=models.PROTECT, related_name="processor_payment"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="payments_payment_recent"),
            models.Index(fields=["status", "-created_at"], name="payments_payment_status"),
            models.Index(fields=["invoice"], name="payments_payment_invoice"),
            models.Index(fields=["contact", "-succeeded_at"], name="payments_payment_contact"),
            models.Index(fields=["company", "-succeeded_at"], name="payments_payment_company"),
            # The reconciliation job reads the attempts whose outcome is unknown.
            models.Index(fields=["called_at"], condition=Q(status="created"), name="payments_payment_unknown"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payments_payment_positive"),
            models.UniqueConstraint(
                fields=["processor", "processor_reference"], name="payments_payment_processor_reference"
            ),
            # At most one attempt in flight per invoice: a second tab or a double click cannot start a second
            # charge while the first can still take money.
            models.UniqueConstraint(
                fields=["invoice"], condition=Q(status__in=PAYMENT_ACTIVE), name="payments_payment_one_active"
            ),
        ]

    def __str__(self):
        return f"{self.public_id} {self.amount} {self.currency} {self.status}"

    @property
    def processor_idempotency_key(self) -> str:
        """Derived from the row, so every retry of this attempt reaches the processor with the same key."""
        return f"commerce-hub-payment-{self.public_id}"

    @property
    def net(self):
        return None if self.fee is None else self.amount - self.fee


class PaymentEvent(models.Model):
    """The payment's timeline: every transition and processor event, who or what caused it."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]


class SavedPaymentMethod(models.Model):
    """A card or bank account the buyer allowed the seller to charge later (Stripe's SetupIntent result)."""

    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    processor = models.CharField(max_length=10, choices=ProcessorKey.choices)
    processor_reference = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=MethodKind.choices)
    details = models.JSONField(default=dict, blank=True)  # brand, last4, expiry; or IBAN last4 and mandate
    created_at = models.DateTimeField(default=timezone.now)
    detached_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["processor", "processor_reference"], name="payments_saved_method_ref")
        ]
