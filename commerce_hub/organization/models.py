import zoneinfo

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones()) if "/" in tz and not tz.startswith("Etc")]
CURRENCY_CHOICES = [(c, c) for c in settings.CURRENCIES]
COUNTRY_CHOICES = [
    ("NL", _("Netherlands")),
    ("NO", _("Norway")),
    ("BE", _("Belgium")),
    ("DE", _("Germany")),
    ("DK", _("Denmark")),
    ("SE", _("Sweden")),
    ("FI", _("Finland")),
    ("FR", _("France")),
    ("GB", _("United Kingdom")),
    ("IE", _("Ireland")),
    ("LU", _("Luxembourg")),
    ("AT", _("Austria")),
    ("ES", _("Spain")),
    ("IT", _("Italy")),
    ("PT", _("Portugal")),
    ("PL", _("Poland")),
    ("CH", _("Switzerland")),
    ("US", _("United States")),
]


def logo_upload_to(_instance, filename):
    return f"branding/{filename}"


class OrganizationProfile(models.Model):
    """The tenant's own company: who appears on its quotes and invoices. Exactly one row per tenant (pk=1)."""

    legal_name = models.CharField(_("legal name"), max_length=200)
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=COUNTRY_CHOICES, default="NL")
    vat_number = models.CharField(_("VAT number"), max_length=32, blank=True)
    registration_number = models.CharField(_("chamber of commerce / organisation number"), max_length=32, blank=True)
    default_currency = models.CharField(_("default currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    timezone = models.CharField(_("timezone"), max_length=64, choices=TIMEZONE_CHOICES, default="Europe/Amsterdam")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    logo = models.ImageField(_("logo"), upload_to=logo_upload_to, blank=True)
    accent_color = models.CharField(
        _("accent colour"),
        max_length=7,
        default="#0f766e",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a colour like #0f766e."))],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="organization_profile_singleton")]

    def __str__(self):
        return self.legal_name
