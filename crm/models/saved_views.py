from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.models.configuration import ObjectType


class CrmList(models.Model):
    """A list of records: dynamic (filters evaluated whenever the list is viewed) or static (chosen members)."""

    class Kind(models.TextChoices):
        DYNAMIC = "dynamic", "Dynamic"
        STATIC = "static", "Static"

    object_type = models.CharField(max_length=10, choices=ObjectType.choices)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Dynamic lists: the index query string plus registered criteria, e.g. {"query": "...", "criteria": [...]}.
    definition = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class CrmListMember(models.Model):
    crm_list = models.ForeignKey(CrmList, on_delete=models.CASCADE, related_name="members")
    record_id = models.BigIntegerField()
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["crm_list", "record_id"], name="crm_list_member_once")]
