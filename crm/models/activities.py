"""Notes and tasks on companies, contacts and deals: the human part of a record's timeline."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models.companies import Company
from crm.models.contacts import Contact
from crm.models.deals import Deal

# Exactly one of company, contact, deal is set: the record the activity belongs to.
_ONE_RECORD = (
    Q(company__isnull=False, contact__isnull=True, deal__isnull=True)
    | Q(company__isnull=True, contact__isnull=False, deal__isnull=True)
    | Q(company__isnull=True, contact__isnull=True, deal__isnull=False)
)


class Note(models.Model):
    body = models.TextField(_("note"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="notes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.CheckConstraint(condition=_ONE_RECORD, name="crm_note_one_record")]

    def __str__(self):
        return self.body[:60]


class Task(models.Model):
    title = models.CharField(_("title"), max_length=200)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crm_tasks",
        verbose_name=_("owner"),
    )
    company = models.ForeignKey(Company, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    deal = models.ForeignKey(Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks")
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["completed_at", "due_date", "id"]
        constraints = [models.CheckConstraint(condition=_ONE_RECORD, name="crm_task_one_record")]
        indexes = [
            models.Index(
                fields=["owner", "due_date"], name="crm_task_open_by_owner", condition=Q(completed_at__isnull=True)
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def record(self):
        return self.company or self.contact or self.deal

    @property
    def is_overdue(self) -> bool:
        return self.completed_at is None and self.due_date is not None and self.due_date < timezone.localdate()
