from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from crm.models.companies import Company
from crm.models.contacts import Contact


class Pipeline(models.Model):
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="crm_pipeline_one_default"
            )
        ]

    def __str__(self):
        return self.name


class ActiveStageManager(models.Manager):
    """Stages in use. An archived stage lives on only in deal history (which reads through the base manager)."""

    def get_queryset(self):
        return super().get_queryset().filter(is_archived=False)


class Stage(models.Model):
    class Kind(models.TextChoices):
        OPEN = "open", _("Open")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(default=0)
    probability = models.DecimalField(_("win probability"), max_digits=5, decimal_places=2, default=0)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.OPEN)
    is_archived = models.BooleanField(default=False)

    all_objects = models.Manager()
    objects = ActiveStageManager()

    class Meta:
        ordering = ["pipeline", "position", "id"]
        base_manager_name = "all_objects"
        default_manager_name = "objects"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=100),
                name="crm_stage_probability_0_100",
            ),
        ]

    def __str__(self):
        return self.name


class Deal(models.Model):
    name = models.CharField(_("name"), max_length=200)
    amount = MoneyField(
        _("amount"),
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        default_currency="EUR",
        null=True,
        blank=True,
    )
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    close_date = models.DateField(_("close date"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="deals")
    contacts = models.ManyToManyField(Contact, blank=True, related_name="deals")
    properties = models.JSONField(default=dict, blank=True)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["stage", "owner", "-updated_at", "-id"], name="crm_deal_stage_owner"),
            models.Index(fields=["-updated_at", "-id"], name="crm_deal_updated"),
            models.Index(fields=["owner", "-updated_at", "-id"], name="crm_deal_owner"),
            models.Index(fields=["-created_at", "-id"], name="crm_deal_created"),
            models.Index(fields=["pipeline", "stage"], name="crm_deal_pipeline_stage"),
            models.Index(fields=["stage", "-updated_at", "-id"], name="crm_deal_stage_recent"),
            GinIndex(fields=["properties"], name="crm_deal_properties", opclasses=["jsonb_path_ops"]),
        ]

    def __str__(self):
        return self.name


class DealStageChange(models.Model):
    """Every move of a deal between stages, for time-in-stage and quote-to-close reporting."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["deal", "changed_at", "id"]

    def __str__(self):
        return f"{self.from_stage} → {self.to_stage}"
