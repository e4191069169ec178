from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from commerce_hub.organization.models import COUNTRY_CHOICES, CURRENCY_CHOICES


class Company(models.Model):
    name = models.CharField(_("name"), max_length=200)
    domain = models.CharField(_("domain"), max_length=200, blank=True)
    vat_number = models.CharField(_("VAT number"), max_length=32, blank=True)
    registration_number = models.CharField(_("chamber of commerce / organisation number"), max_length=32, blank=True)
    address_line1 = models.CharField(_("address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, choices=COUNTRY_CHOICES, default="NL")
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    # The key of a LifecycleStage row: admins configure the stages, records keep the stable key.
    lifecycle_stage = models.CharField(_("lifecycle stage"), max_length=40, default="lead")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    language = models.CharField(_("preferred language"), max_length=8, choices=settings.LANGUAGES, default="en")
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    # Values of the admin-defined custom properties, keyed by PropertyDefinition.key (see crm.properties).
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "companies"
        indexes = [
            models.Index(fields=["name", "id"], name="crm_company_name_id"),
            models.Index(fields=["-updated_at", "-id"], name="crm_company_updated"),
            models.Index(fields=["lifecycle_stage", "owner", "-updated_at", "-id"], name="crm_company_stage_owner"),
            models.Index(fields=["owner", "-updated_at", "-id"], name="crm_company_owner"),
            models.Index(fields=["-created_at", "-id"], name="crm_company_created"),
            GinIndex(fields=["properties"], name="crm_company_properties", opclasses=["jsonb_path_ops"]),
        ]

    def __str__(self):
        return self.name
