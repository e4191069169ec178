from django.db import models

from commerce_hub.imports.models import ImportJobBase, ImportRowErrorBase


class ProductImportJob(ImportJobBase):
    """A CSV import of products."""

    file = models.FileField(upload_to="imports/products/", blank=True)  # emptied once the rows are in
    error_count = models.PositiveIntegerField(default=0)  # exact, while only the first errors are kept as rows
    # Numbers are read in the uploader's language, and rows without a currency get the default of upload time.
    language = models.CharField(max_length=10, default="en")
    default_currency = models.CharField(max_length=3, blank=True)

    class Meta(ImportJobBase.Meta):
        pass


class ProductImportRowError(ImportRowErrorBase):
    job = models.ForeignKey(ProductImportJob, on_delete=models.CASCADE, related_name="row_errors")

    class Meta(ImportRowErrorBase.Meta):
        pass
