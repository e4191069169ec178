"""What admins configure: lifecycle stages and custom properties."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ObjectType(models.TextChoices):
    COMPANY = "company", _("Company")
    CONTACT = "contact", _("Contact")
    DEAL = "deal", _("Deal")


class LifecycleStage(models.Model):
    """An ordered stage of the customer lifecycle. Records store the key, so renaming a stage changes no record."""

    key = models.SlugField(max_length=40, unique=True)
    label = models.CharField(_("label"), max_length=80)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.label


class PropertyDefinition(models.Model):
    """A custom property of companies, contacts or deals. Values live in the record's `properties` JSON."""

    class Type(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        BOOLEAN = "boolean", _("Yes/no")
        MONEY = "money", _("Money")

    object_type = models.CharField(_("object"), max_length=10, choices=ObjectType.choices)
    key = models.SlugField(_("internal name"), max_length=60)
    label = models.CharField(_("label"), max_length=120)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices)
    # For choice properties: [{"value": "gold", "label": "Gold"}, ...]
    choices = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["object_type", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["object_type", "key"], name="crm_property_key_unique"),
        ]

    def __str__(self):
        return self.label

    @property
    def choice_labels(self) -> dict[str, str]:
        return {c["value"]: c["label"] for c in self.choices}
