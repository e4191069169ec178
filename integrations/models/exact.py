"""Exact Online: the tenant's connection (tokens kept encrypted), its sync settings, the map of our records to
Exact's, and the log of every call made."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ExactCountry(models.TextChoices):
    """Exact runs one site per country; a division lives on exactly one of them (start.exactonline.<tld>)."""

    NL = "nl", _("Netherlands (exactonline.nl)")
    BE = "be", _("Belgium (exactonline.be)")
    DE = "de", _("Germany (exactonline.de)")
    UK = "co.uk", _("United Kingdom (exactonline.co.uk)")
    US = "com", _("United States (exactonline.com)")
    ES = "es", _("Spain (exactonline.es)")
    FR = "fr", _("France (exactonline.fr)")


class ConnectionState(models.TextChoices):
    DISCONNECTED = "disconnected", _("Not connected")
    CONNECTED = "connected", _("Connected")
    # Exact refused the refresh token (invalid_grant): nothing syncs until an admin connects again.
    RECONNECT = "reconnect", _("Reconnect needed")


class ExactConnection(models.Model):
    """One row per tenant (pk=1). Tokens are Fernet-encrypted (payments.crypto); the refresh token rotates on every
    use, so the new one is stored in the same transaction as the access token it came with."""

    country = models.CharField(_("Exact site"), max_length=6, choices=ExactCountry.choices, default=ExactCountry.NL)
    state = models.CharField(max_length=14, choices=ConnectionState.choices, default=ConnectionState.DISCONNECTED)
    access_token_encrypted = models.TextField(blank=True)
    refresh_token_encrypted = models.TextField(blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    # When the tokens were last refreshed: never again within 9.5 minutes of this.
    refreshed_at = models.DateTimeField(null=True, blank=True)
    division = models.PositiveIntegerField(null=True, blank=True)
    division_name = models.CharField(max_length=200, blank=True)
    user_name = models.CharField(max_length=200, blank=True)
    user_full_name = models.CharField(max_length=200, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The highest sync/Cashflow/PaymentTerms Timestamp read: the next read asks only for what changed after it.
    receivables_timestamp = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="integrations_exact_connection_single")]


class InvoiceMode(models.TextChoices):
    CONCEPT = "concept", _("Concept (draft) invoice")
    PROCESSED = "processed", _("Processed invoice")


class SyncScope(models.TextChoices):
    ALL = "all", _("All")
    NONE = "none", _("None")
    STAGE = "stage", _("At or past a lifecycle stage")


class AccountType(models.TextChoices):
    # Exact's crm/Accounts Status codes.
    CUSTOMER = "C", _("Customer")
    PROSPECT = "P", _("Prospect")
    SUSPECT = "S", _("Suspect")


class ReferenceField(models.TextChoices):
    YOUR_REF = "YourRef", _("Your reference (YourRef)")
    DESCRIPTION = "Description", _("Description")
    ORDER_NUMBER = "OrderNumber", _("Order number")


class ExactSettings(models.Model):
    """What the setup wizard saved (pk=1). A tenant that never saved has the defaults, without a write."""

    invoices_enabled = models.BooleanField(_("sales invoices"), default=False)
    opportunities_enabled = models.BooleanField(_("sales opportunities"), default=False)
    company_scope = models.CharField(max_length=8, choices=SyncScope.choices, default=SyncScope.ALL)
    company_min_stage = models.CharField(max_length=40, blank=True)
    contact_scope = models.CharField(max_length=8, choices=SyncScope.choices, default=SyncScope.ALL)
    contact_min_stage = models.CharField(max_length=40, blank=True)
    # [{"object": "company" | "contact", "property": our field or custom property key, "exact": Exact field}]
    field_map = models.JSONField(default=list, blank=True)
    account_type = models.CharField(max_length=1, choices=AccountType.choices, default=AccountType.CUSTOMER)
    # Exact codes, chosen from lists read live from Exact; a label is kept to read them back without a call.
    vat_code = models.CharField(max_length=20, blank=True)
    payment_condition = models.CharField(max_length=20, blank=True)
    gl_account = models.CharField(max_length=40, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    reference_field = models.CharField(max_length=20, choices=ReferenceField.choices, default=ReferenceField.YOUR_REF)
    # [{"pipeline": id, "stage": id}]: a deal reaching the stage gets a sales invoice in Exact.
    invoice_stages = models.JSONField(default=list, blank=True)
    invoice_mode = models.CharField(max_length=10, choices=InvoiceMode.choices, default=InvoiceMode.CONCEPT)
    default_unit = models.CharField(max_length=20, blank=True, default="pc")
    default_item_group = models.CharField(max_length=40, blank=True)
    default_item_code = models.CharField(max_length=40, blank=True)
    default_payment_condition = models.CharField(max_length=20, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="integrations_exact_settings_single")]


class LinkKind(models.TextChoices):
    COMPANY = "company", _("Company")
    CONTACT = "contact", _("Contact")
    PRODUCT = "product", _("Product")
    INVOICE = "invoice", _("Invoice")
    DEAL = "deal", _("Deal")


class ExactLink(models.Model):
    """Our record -> Exact's GUID. One row per record (a constraint): the row is claimed with a lease before a call
    that creates something in Exact, so two workers never create the same record twice."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SYNCED = "synced", _("Synced")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=10, choices=LinkKind.choices)
    object_id = models.BigIntegerField()
    exact_id = models.CharField(max_length=36, blank=True)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    # For a deal: {"invoice_id": our invoice made for Exact}; for an invoice: {"number": Exact's invoice number}.
    data = models.JSONField(default=dict, blank=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "object_id"], name="integrations_exact_link_once")]


class SyncLog(models.Model):
    """One operation against Exact: what was asked, what came back, and how it ended. Retried from its page."""

    class Status(models.TextChoices):
        OK = "ok", _("Succeeded")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Skipped")

    operation = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    method = models.CharField(max_length=6, blank=True)
    path = models.CharField(max_length=300, blank=True)
    request = models.TextField(blank=True)
    response = models.TextField(blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="integrations_synclog_recent"),
            models.Index(fields=["status", "-created_at", "-id"], name="integrations_synclog_status"),
        ]
