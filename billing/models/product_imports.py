from django.conf import settings
from django.db import models
from django.utils import timezone


class ProductImportJob(models.Model):
    """One product CSV import: upload, column mapping, the check's report, then the write (all or only valid rows)."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded"
        VALIDATING = "validating", "Validating"
        VALIDATED = "validated", "Validated"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    file = models.FileField(upload_to="imports/products/", blank=True)  # emptied once the rows are in
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADED)
    headers = models.JSONField(default=list)
    mapping = models.JSONField(default=dict)  # CSV header -> field key ("" = ignore)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    imported_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)  # exact, while only the first errors are kept as rows
    skip_invalid = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    # Numbers are read in the uploader's language, and rows without a currency get the default of upload time.
    language = models.CharField(max_length=10, default="en")
    default_currency = models.CharField(max_length=3, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.original_name

    @property
    def invalid_rows(self) -> int:
        return max(self.total_rows - self.valid_rows, 0)

    @property
    def running(self) -> bool:
        return self.status in (self.Status.VALIDATING, self.Status.IMPORTING)

    @property
    def mappable(self) -> bool:
        return self.status in (self.Status.UPLOADED, self.Status.VALIDATED, self.Status.FAILED)


class ProductImportRowError(models.Model):
    job = models.ForeignKey(ProductImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField()  # 1-based, counting the header as row 1, like a spreadsheet
    column = models.CharField(max_length=200, blank=True)
    value = models.CharField(max_length=500, blank=True)
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["row_number", "id"]
