from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from crm.models import Company, Contact, Deal

_MONEY = {"max_digits": MONEY_MAX_DIGITS, "decimal_places": MONEY_DECIMAL_PLACES}


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    VOID = "void", _("Void")
    UNCOLLECTIBLE = "uncollectible", _("Uncollectible")


class Invoice(models.Model):
    """A bill to a buyer. A draft is edited freely; finalizing numbers it and freezes what it prints into
    `snapshot`. After that only its state moves (a database trigger refuses anything else): corrections are credit
    notes, money received is a payment, and the balance is always derived from the total, credit notes and
    payments."""

    status = models.CharField(_("status"), max_length=14, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    number = models.CharField(_("number"), max_length=40, null=True, blank=True, unique=True)
    sequence = models.PositiveBigIntegerField(null=True, blank=True)  # the counter value behind the number
    currency = models.CharField(_("currency"), max_length=3)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices", verbose_name=_("company")
    )
    contacts = models.ManyToManyField(Contact, blank=True, related_name="invoices", verbose_name=_("contacts"))
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.SET_NULL, related_name="invoices")
    # The quote it was converted from, or whose checkout or installment it bills.
    source_quote = models.ForeignKey(
        "billing.Quote", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    # A late fee invoice points at the overdue invoice it charges for.
    # A subscription's invoice bills one period: one invoice per subscription and period start (a constraint).
    subscription = models.ForeignKey(
        "billing.Subscription", null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    late_fee_for = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="late_fee_invoice"
    )
    payment_terms_days = models.PositiveIntegerField(_("payment terms (days)"), null=True, blank=True)
    custom_due_date = models.DateField(_("due date"), null=True, blank=True)
    payment_methods = models.JSONField(_("accepted payment methods"), default=list, blank=True)
    comments = models.TextField(_("comments for the buyer"), blank=True)
    issue_date = models.DateField(_("invoice date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    # Frozen at finalization: seller, buyer, lines, VAT breakdown, totals, terms, bank details, logo.
    snapshot = models.JSONField(null=True, blank=True)
    total = models.DecimalField(_("total"), null=True, blank=True, **_MONEY)
    logo_path = models.CharField(max_length=300, blank=True)  # the logo file it was finalized with
    pdf_path = models.CharField(max_length=300, blank=True)  # the cached PDF of a finalized invoice
    public_token = models.CharField(max_length=64, null=True, blank=True, unique=True)
    first_viewed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)  # when the overdue event went out
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "due_date", "id"], name="billing_invoice_status_due"),
            models.Index(fields=["-created_at", "-id"], name="billing_invoice_created"),
            models.Index(fields=["-issue_date", "-id"], name="billing_invoice_issued"),
            models.Index(fields=["company", "-created_at"], name="billing_invoice_company"),
            models.Index(fields=["deal", "-created_at"], name="billing_invoice_deal"),
            models.Index(fields=["subscription", "-period_start"], name="billing_invoice_subscription"),
            # The open, overdue, due this month and aging views and their totals: small (open invoices only) and
            # covering, so counting and summing a view reads the index alone. Status is included although the
            # condition fixes it, because the balance due expressions name it and would otherwise read the heap.
            models.Index(
                fields=["due_date", "id"],
                include=["status", "currency", "total"],
                condition=Q(status="open"),
                name="billing_invoice_open_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(number__isnull=False, sequence__isnull=False, issue_date__isnull=False),
                name="billing_invoice_finalized_has_number",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", number__isnull=True) | ~Q(status="draft"),
                name="billing_invoice_draft_has_no_number",
            ),
            # The billing run's guarantee: a period is billed once, whatever runs at the same time or again.
            models.UniqueConstraint(
                fields=["subscription", "period_start"],
                condition=Q(subscription__isnull=False),
                name="billing_invoice_once_per_period",
            ),
        ]

    def __str__(self):
        return self.number or f"Draft {self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT


class PaymentMethodKind(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    CARD = "card", _("Card")
    BANK_DEBIT = "bank_debit", _("Bank debit")
    CASH = "cash", _("Cash")
    OTHER = "other", _("Other")


class InvoicePayment(models.Model):
    """Money received against an invoice: recorded by hand, or by a payment processor (source, external_id)."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("amount"), **_MONEY)
    currency = models.CharField(max_length=3)
    paid_on = models.DateField(_("payment date"))
    method = models.CharField(_("method"), max_length=14, choices=PaymentMethodKind.choices)
    reference = models.CharField(_("reference"), max_length=140, blank=True)
    # Where it came from ("manual", a processor, a bank import) and that source's own id for it: a processor's
    # retry of the same payment finds the first row instead of paying twice.
    source = models.CharField(max_length=20, default="manual")
    external_id = models.CharField(max_length=120, null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["paid_on", "id"]
        indexes = [models.Index(fields=["invoice"], name="billing_payment_invoice")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_payment_positive"),
            models.UniqueConstraint(fields=["source", "external_id"], name="billing_payment_source_reference"),
        ]


class InvoiceEvent(models.Model):
    """The invoice's own timeline, append-only: who did what, when, and the state before and after."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30)
    from_status = models.CharField(max_length=14, blank=True)
    to_status = models.CharField(max_length=14, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["invoice", "at"], name="billing_invoice_event_inv")]


class CreditNote(models.Model):
    """A correction of a finalized invoice: its own number series, lines, VAT and PDF; it lowers the balance."""

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.CharField(_("number"), max_length=40, unique=True)
    sequence = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    issue_date = models.DateField()
    total = models.DecimalField(**_MONEY)
    snapshot = models.JSONField(default=dict)
    pdf_path = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["invoice"], name="billing_credit_note_invoice")]
        constraints = [models.CheckConstraint(condition=Q(total__gt=0), name="billing_credit_note_positive")]

    def __str__(self):
        return self.number


class CreditNoteLine(models.Model):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    # The invoice line it credits (its position in the invoice snapshot), or None for an amount.
    invoice_line_index = models.PositiveIntegerField(null=True, blank=True)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    net = models.DecimalField(**_MONEY)
    tax_rate = models.DecimalField(max_digits=5, decimal_places=2)
    tax_label = models.CharField(max_length=100, blank=True)
    reverse_charge = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class ReminderSent(models.Model):
    """One reminder step sent for one invoice. The unique pair is what makes a beat that fires twice, or a worker
    that dies mid-run, never send the same step twice: the row and its email commit together or not at all."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="reminders")
    offset_days = models.IntegerField()
    kind = models.CharField(max_length=14)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "offset_days"], name="billing_reminder_once_per_step")
        ]


class InvoiceLinkRevoked(models.Model):
    """A hosted link that finance replaced with a new one: whoever opens it is told it no longer works and whom to
    ask, instead of a bare "not found". Only the token's row is kept; the invoice has its new one."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="revoked_links")
    token = models.CharField(max_length=64, unique=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-revoked_at", "-id"]
