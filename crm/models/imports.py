from django.conf import settings
from django.db import models
from django.utils import timezone

from crm.models.configuration import ObjectType


class ImportJob(models.Model):
    """One CSV import: upload, column mapping, validation report, then the write (all rows or only valid ones)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        VALIDATING = "validating", "Validating"
        VALIDATED = "validated", "Validated"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    object_type = models.CharField(max_length=10, choices=ObjectType.choices)
    file = models.FileField(upload_to="imports/")
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADED)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)  # CSV header -> field key ("" = ignore)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    imported_rows = models.PositiveIntegerField(default=0)
    skip_invalid = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.original_name

    @property
    def progress_percent(self) -> int:
        return int(self.processed_rows * 100 / self.total_rows) if self.total_rows else 0


class ImportRowError(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()  # 1-based, counting the header as row 1, like a spreadsheet
    column = models.CharField(max_length=200, blank=True)
    value = models.CharField(max_length=500, blank=True)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["row_number", "id"]
