"""What every import job and its error rows hold; each app's concrete models add what it imports and its file."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "Uploaded"
    VALIDATING = "validating", "Validating"
    VALIDATED = "validated", "Validated"
    IMPORTING = "importing", "Importing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportJobBase(models.Model):
    """One CSV import: upload, column mapping, the check's report, then the write (all rows or only valid ones)."""

    Status = ImportStatus

    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=12, choices=ImportStatus.choices, default=ImportStatus.UPLOADED)
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
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.original_name

    @property
    def progress_percent(self) -> int:
        return int(self.processed_rows * 100 / self.total_rows) if self.total_rows else 0

    @property
    def invalid_rows(self) -> int:
        return max(self.total_rows - self.valid_rows, 0)

    @property
    def running(self) -> bool:
        return self.status in (ImportStatus.VALIDATING, ImportStatus.IMPORTING)

    @property
    def mappable(self) -> bool:
        return self.status in (ImportStatus.UPLOADED, ImportStatus.VALIDATED, ImportStatus.FAILED)


class ImportRowErrorBase(models.Model):
    """One bad cell of an import; the concrete model adds `job`."""

    row_number = models.PositiveIntegerField()  # 1-based, counting the header as row 1, like a spreadsheet
    column = models.CharField(max_length=200, blank=True)
    value = models.CharField(max_length=500, blank=True)
    message = models.CharField(max_length=500)

    class Meta:
        abstract = True
        ordering = ["row_number", "id"]
