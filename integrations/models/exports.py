from django.db import models
from django.utils.translation import gettext_lazy as _


class EndpointScheme(models.TextChoices):
    """Peppol electronic address schemes (EAS code list) our first users need."""

    KVK = "0106", _("0106: Dutch chamber of commerce (KvK) number")
    OIN = "0190", _("0190: Dutch government identification number (OIN)")
    NL_VAT = "9944", _("9944: Dutch VAT number")
    NO_ORG = "0192", _("0192: Norwegian organisation number")
    GLN = "0088", _("0088: Global location number (GLN)")
    BE_ENTERPRISE = "0208", _("0208: Belgian enterprise number")
    DE_LEITWEG = "0204", _("0204: German Leitweg-ID")
    EMAIL = "EM", _("EM: email address")


class BuyerEndpointSource(models.TextChoices):
    """Where a buyer's Peppol endpoint id comes from when the company record holds no explicit one."""

    REGISTRATION = "registration", _("Chamber of commerce / organisation number (0106 in NL, 0192 in NO)")
    VAT = "vat", _("VAT number (9944 in NL)")


class ExportSettings(models.Model):
    """How the tenant's e-invoices (UBL / Peppol BIS Billing 3.0) are addressed and delivered. One row per tenant
    (pk=1); a tenant that never saved one gets the defaults without a write."""

    embed_ubl_in_pdf = models.BooleanField(
        _("embed the e-invoice (UBL XML) in invoice and credit note PDFs"),
        default=False,
        help_text=_("The PDF becomes a PDF/A-3 file carrying the UBL XML as an attachment (Factur-X style)."),
    )
    seller_endpoint_scheme = models.CharField(
        _("your Peppol endpoint scheme"), max_length=4, choices=EndpointScheme.choices, blank=True
    )
    # Blank: the registration number (0106 / 0192) or the VAT number (9944) from the organization profile.
    seller_endpoint_id = models.CharField(_("your Peppol endpoint id"), max_length=80, blank=True)
    buyer_endpoint_source = models.CharField(
        _("buyer's Peppol endpoint by default"),
        max_length=12,
        choices=BuyerEndpointSource.choices,
        default=BuyerEndpointSource.REGISTRATION,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("export settings")
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="integrations_export_settings_singleton")]

    def __str__(self):
        return "export settings"
