"""Quotes: a priced offer to a buyer, built from a deal's lines, published as a hosted page and a PDF, signed and
paid by the buyer.

A quote is the living document a rep edits; each time it is published, a QuotePublication freezes what the buyer
sees (the snapshot, the PDF and its SHA-256) under its own unguessable token. Editing a published quote unpublishes
it and the next publication is a new revision: the old link then says it was replaced, and signatures always belong
to the exact publication (and PDF) the signer saw.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models.invoices import Invoice
from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from crm.models import Company, Contact, Deal

_MONEY = {"max_digits": MONEY_MAX_DIGITS, "decimal_places": MONEY_DECIMAL_PLACES}


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    APPROVED = "approved", _("Approved")
    PUBLISHED = "published", _("Published")
    VIEWED = "viewed", _("Viewed")
    SIGNED = "signed", _("Signed")
    ACCEPTED = "accepted", _("Accepted")
    PAID = "paid", _("Paid")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")


# States in which the buyer's page is live: it can be viewed, signed, accepted and paid.
LIVE_STATUSES = (QuoteStatus.PUBLISHED, QuoteStatus.VIEWED, QuoteStatus.SIGNED, QuoteStatus.ACCEPTED)
# States an expiration date still applies to: the hourly job expires these once their date has passed.
EXPIRABLE_STATUSES = (
    QuoteStatus.DRAFT,
    QuoteStatus.PENDING_APPROVAL,
    QuoteStatus.APPROVED,
    QuoteStatus.PUBLISHED,
    QuoteStatus.VIEWED,
)
# States in which the rep may still change the quote (a published one is unpublished into a new revision first).
EDITABLE_STATUSES = (QuoteStatus.DRAFT, QuoteStatus.APPROVED)


class QuoteLayout(models.TextChoices):
    CLASSIC = "classic", _("Classic")
    MODERN = "modern", _("Modern")
    COMPACT = "compact", _("Compact")


class SigningOrder(models.TextChoices):
    ANY = "any", _("In any order")
    FIXED = "fixed", _("In a fixed order")


class QuoteTemplate(models.Model):
    """The look and standard texts of a quote: a layout and a theme (logo, accent colour, header and footer text,
    terms). Built-in templates ship with the product (their texts come translated in the quote's language when left
    empty); admins edit them and add their own."""

    name = models.CharField(_("name"), max_length=100)
    layout = models.CharField(_("layout"), max_length=10, choices=QuoteLayout.choices, default=QuoteLayout.CLASSIC)
    builtin_key = models.CharField(max_length=20, blank=True)  # "classic", ... for the shipped ones
    accent_color = models.CharField(_("accent colour"), max_length=7, blank=True)
    logo = models.ImageField(_("logo"), upload_to="quote-logos/", blank=True)
    header_text = models.TextField(_("header text"), blank=True)
    footer_text = models.TextField(_("footer text"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    is_default = models.BooleanField(_("default template"), default=False)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="billing_quote_tpl_one_default"
            ),
            models.UniqueConstraint(
                fields=["builtin_key"], condition=~Q(builtin_key=""), name="billing_quote_tpl_builtin_once"
            ),
        ]

    def __str__(self):
        return self.name


class QuoteSettings(models.Model):
    """One row per tenant (pk 1): approvals, defaults for new quotes and what a paid quote does to its deal."""

    approvals_enabled = models.BooleanField(_("require approval"), default=False)
    # A quote needs approval when any line or one-time discount is above this percentage of the list amount ...
    approval_discount_percent = models.DecimalField(
        _("discount above (%)"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    # ... or when its total is above this amount (converted at the tenant's exchange rates for other currencies).
    approval_total_amount = models.DecimalField(_("total above"), null=True, blank=True, **_MONEY)
    approval_total_currency = models.CharField(max_length=3, blank=True)
    expiry_days = models.PositiveIntegerField(_("days until a new quote expires"), default=30)
    signature_required = models.BooleanField(_("require e-signatures by default"), default=True)
    payment_enabled = models.BooleanField(_("collect payment by default"), default=False)
    # {pipeline id: stage id}: the stage a deal moves to when its quote is paid (none: the deal stays).
    won_stages = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "quote settings"


class Quote(models.Model):
    status = models.CharField(_("status"), max_length=16, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT)
    # Numbered on first publication from its own gap-free series; a revision keeps the number.
    number = models.CharField(_("number"), max_length=40, null=True, blank=True, unique=True)
    sequence = models.PositiveBigIntegerField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=0)  # how many times it was published
    title = models.CharField(_("title"), max_length=200)
    expires_on = models.DateField(_("expiration date"))
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    currency = models.CharField(_("currency"), max_length=3)
    template = models.ForeignKey(
        QuoteTemplate,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quotes",
        verbose_name=_("template"),
    )
    deal = models.ForeignKey(Deal, on_delete=models.PROTECT, related_name="quotes", verbose_name=_("deal"))
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="quotes", verbose_name=_("company")
    )
    contacts = models.ManyToManyField(Contact, blank=True, related_name="quotes", verbose_name=_("buyer contacts"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_quotes",
        verbose_name=_("sender"),
    )
    comments = models.TextField(_("comments for the buyer"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    signature_required = models.BooleanField(_("require e-signatures"), default=True)
    countersigners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="countersigned_quotes", verbose_name=_("countersigners")
    )
    signing_order = models.CharField(
        _("signing order"), max_length=6, choices=SigningOrder.choices, default=SigningOrder.ANY
    )
    payment_enabled = models.BooleanField(_("collect payment"), default=False)
    payment_methods = models.JSONField(_("accepted payment methods"), default=list, blank=True)
    total = models.DecimalField(_("total"), null=True, blank=True, **_MONEY)  # as last priced, for the index
    publication = models.OneToOneField(
        "billing.QuotePublication", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The invoice the buyer pays at checkout (the first installment, or everything due now): one per quote.
    checkout_invoice = models.OneToOneField(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="checkout_for_quote"
    )
    decline_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    first_viewed_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="billing_quote_created"),
            models.Index(fields=["status", "expires_on", "id"], name="billing_quote_status_exp"),
            models.Index(fields=["deal", "-created_at"], name="billing_quote_deal"),
            models.Index(fields=["company", "-created_at"], name="billing_quote_company"),
            models.Index(fields=["owner", "-created_at"], name="billing_quote_owner"),
            # The expiry job reads only live quotes past their date.
            models.Index(
                fields=["expires_on", "id"],
                condition=Q(status__in=["published", "viewed", "signed", "approved", "pending_approval", "draft"]),
                name="billing_quote_expiring",
            ),
            # The expiry job takes the states it expires in batches in id order: without this the batch scans the
            # primary key from the oldest quote on, past every answered one, for each batch. Only queries that bound
            # the expiration date can use it (expires_on IS NOT NULL), so the index's state filters keep their plans.
            models.Index(
                fields=["id"],
                condition=Q(
                    status__in=["draft", "pending_approval", "approved", "published", "viewed"],
                    expires_on__isnull=False,
                ),
                name="billing_quote_expirable",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(sequence__isnull=False), name="billing_quote_number_has_sequence"
            ),
        ]

    def __str__(self):
        return self.number or f"Draft quote {self.pk}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def can_expire(self) -> bool:
        return self.status in EXPIRABLE_STATUSES


class QuotePublication(models.Model):
    """One published revision of a quote: exactly what the buyer saw and signed. Never changes after it is written
    except for `replaced_at` (set when the quote is unpublished for a new revision)."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="publications")
    revision = models.PositiveIntegerField()
    token = models.CharField(max_length=64, unique=True)
    snapshot = models.JSONField()
    pdf_path = models.CharField(max_length=300)
    pdf_sha256 = models.CharField(max_length=64)
    signed_pdf_path = models.CharField(max_length=300, blank=True)  # with the certificate page, once all signed
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    published_at = models.DateTimeField(default=timezone.now)
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["quote", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["quote", "revision"], name="billing_quote_pub_revision_once"),
        ]


class SignerRole(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    COUNTERSIGNER = "countersigner", _("Countersigner")


class SignatureKind(models.TextChoices):
    TYPED = "typed", _("Typed")
    DRAWN = "drawn", _("Drawn")


class QuoteSigner(models.Model):
    """Who must sign one publication, and, once they have, the audit record of their signature: name, email, time,
    address, browser and the SHA-256 of the exact PDF they signed. Before signing, the signer proves control of the
    email with a one-time code (only its hash is stored; five wrong tries lock it until a new code is sent)."""

    publication = models.ForeignKey(QuotePublication, on_delete=models.CASCADE, related_name="signers")
    role = models.CharField(max_length=14, choices=SignerRole.choices)
    position = models.PositiveIntegerField(default=0)  # the order, when the quote fixes one
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField()
    code_hash = models.CharField(max_length=128, blank=True)
    code_sent_at = models.DateTimeField(null=True, blank=True)
    code_expires_at = models.DateTimeField(null=True, blank=True)
    code_attempts = models.PositiveIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signature_kind = models.CharField(max_length=6, choices=SignatureKind.choices, blank=True)
    signature_name = models.CharField(max_length=200, blank=True)  # the typed name (also given with a drawing)
    signature_image = models.TextField(blank=True)  # a drawn signature: a PNG data URI
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["publication", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["publication", "email"], name="billing_quote_signer_once"),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True) | (~Q(pdf_sha256="") & ~Q(signature_kind="")),
                name="billing_quote_signature_complete",
            ),
        ]


class QuoteInstallment(models.Model):
    """One part of a one-time total's payment schedule. The first is paid through the quote at checkout; the others
    become invoices due on their dates."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="installments")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(_("name"), max_length=120)
    percent = models.DecimalField(_("percentage"), max_digits=7, decimal_places=4, null=True, blank=True)
    amount = models.DecimalField(_("amount"), null=True, blank=True, **_MONEY)
    due_date = models.DateField(_("due date"), null=True, blank=True)  # none for the first: due at checkout
    invoice = models.OneToOneField(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="quote_installment"
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__isnull=False, amount__isnull=True) | Q(percent__isnull=True, amount__isnull=False),
                name="billing_installment_percent_or_amount",
            ),
            models.CheckConstraint(
                condition=Q(percent__isnull=True) | Q(percent__gt=0, percent__lte=100), name="billing_installment_pct"
            ),
            models.CheckConstraint(condition=Q(amount__isnull=True) | Q(amount__gt=0), name="billing_installment_amt"),
        ]


class ApprovalDecision(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class QuoteApproval(models.Model):
    """One request for approval: why it was needed, and who decided what, with their comment."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="approvals")
    reasons = models.JSONField(default=list)  # the thresholds it passed, as sentences
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(max_length=10, choices=ApprovalDecision.choices, default=ApprovalDecision.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    # SHA-256 of the priced content (lines and one-time adjustments as the pricing engine reads them) when approval
    # was requested: an approval covers exactly that content, so any later edit needs approval again.
    fingerprint = models.CharField(max_length=64, blank=True)
    # The approvers' tasks, completed when the request is decided.
    tasks = models.ManyToManyField("crm.Task", blank=True, related_name="+")

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["quote"], condition=Q(decision="pending"), name="billing_quote_one_pending_approval"
            )
        ]


class QuoteEvent(models.Model):
    """The quote's own timeline, append-only: who did what, when, and the state before and after."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["quote", "at"], name="billing_quote_event_quote")]
