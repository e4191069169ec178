from django.db import models

from commerce_hub.imports.models import ImportJobBase, ImportRowErrorBase
from crm.models.configuration import ObjectType


class ImportJob(ImportJobBase):
    """A CSV import of companies, contacts or deals."""

    object_type = models.CharField(max_length=10, choices=ObjectType.choices)
    file = models.FileField(upload_to="imports/")

    class Meta(ImportJobBase.Meta):
        pass


class ImportRowError(ImportRowErrorBase):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")

    class Meta(ImportRowErrorBase.Meta):
        pass
