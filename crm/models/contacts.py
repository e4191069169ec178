from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models.companies import Company


class Contact(models.Model):
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    email = models.EmailField(_("email"), max_length=254)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
        verbose_name=_("company"),
    )
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
    properties = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [models.UniqueConstraint(Lower("email"), name="crm_contact_email_ci_unique")]
        indexes = [
            models.Index(fields=["lifecycle_stage", "owner", "-updated_at", "-id"], name="crm_contact_stage_owner"),
            models.Index(fields=["-updated_at", "-id"], name="crm_contact_updated"),
            models.Index(fields=["owner", "-updated_at", "-id"], name="crm_contact_owner"),
            models.Index(fields=["-created_at", "-id"], name="crm_contact_created"),
            models.Index(fields=["company"], name="crm_contact_company"),
            GinIndex(fields=["properties"], name="crm_contact_properties", opclasses=["jsonb_path_ops"]),
        ]

    def __str__(self):
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
