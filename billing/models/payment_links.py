"""Payment links: a shareable checkout for a set of line items (Stripe's Payment Links). Anyone with the URL buys:
each purchase is a PaymentLinkPurchase (Stripe's Checkout Session) that finds or creates the buyer's contact and
company, becomes an invoice paid through the hosted checkout, and starts subscriptions for the recurring lines.
The link's lines are LineItem rows owned by the link."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models.invoices import Invoice
from crm.models import Company, Contact


class AfterPayment(models.TextChoices):
    MESSAGE = "message", _("Show a thank-you message")
    REDIRECT = "redirect", _("Redirect to a page of yours")


class PaymentLink(models.Model):
    # The shareable URL's token: 256 random bits.
    public_token = models.CharField(max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)
    currency = models.CharField(_("currency"), max_length=3)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    payment_methods = models.JSONField(_("accepted payment methods"), default=list, blank=True)
    # The buyer may choose how many they buy (every line's quantity is multiplied), within these bounds.
    adjustable_quantity = models.BooleanField(_("buyers can change the quantity"), default=False)
    min_quantity = models.PositiveIntegerField(_("minimum quantity"), default=1)
    max_quantity = models.PositiveIntegerField(_("maximum quantity"), default=99)
    collect_billing_address = models.BooleanField(_("collect the billing address"), default=False)
    collect_phone = models.BooleanField(_("collect a phone number"), default=False)
    after_payment = models.CharField(
        _("after payment"), max_length=8, choices=AfterPayment.choices, default=AfterPayment.MESSAGE
    )
    thank_you_message = models.TextField(_("thank-you message"), blank=True)
    redirect_url = models.URLField(_("redirect URL"), max_length=500, blank=True)
    # Free days before a recurring line's first charge (none: charged at purchase).
    trial_days = models.PositiveIntegerField(_("trial (days)"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="billing_paylink_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_quantity__gte=1, max_quantity__gte=models.F("min_quantity")),
                name="billing_paylink_quantity_bounds",
            ),
            models.CheckConstraint(
                condition=~Q(after_payment="redirect") | ~Q(redirect_url=""), name="billing_paylink_redirect_url"
            ),
        ]

    def __str__(self):
        return self.name


class PurchaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    EXPIRED = "expired", _("Expired")


class PaymentLinkPurchase(models.Model):
    """One buyer's checkout through a link: what they entered, the invoice it became, and whether it was paid."""

    public_id = models.CharField(max_length=40, unique=True)  # 128 random bits: names the purchase in buyer URLs
    link = models.ForeignKey(PaymentLink, on_delete=models.PROTECT, related_name="purchases")
    status = models.CharField(max_length=8, choices=PurchaseStatus.choices, default=PurchaseStatus.OPEN)
    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=200)
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    billing_address = models.JSONField(default=dict, blank=True)  # line1, line2, postal_code, city, country
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    language = models.CharField(max_length=8, default="en")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invoice = models.OneToOneField(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="payment_link_purchase"
    )
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["link", "status"], name="billing_purchase_link"),
            models.Index(fields=["-created_at", "-id"], name="billing_purchase_recent"),
        ]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="billing_purchase_quantity")]

    def __str__(self):
        return f"{self.link} {self.email}"
