from django.conf import settings
from django.db import models
from django.utils import timezone


class SavedView(models.Model):
    """A named view of an index page (its filters, search, sort and columns), for every index of every app.

    `index` names the page ("crm.company", "billing.invoice"); each app declares its indexes (SavedViewIndex).
    Personal (owner set) or shared with the team (no owner).
    """

    index = models.CharField(max_length=40)
    name = models.CharField(max_length=80)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The index page's query string without the cursor: filters, search and sort, exactly as the page reads them.
    query = models.CharField(max_length=2000, blank=True)
    columns = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["index", "name", "id"]
        indexes = [models.Index(fields=["index", "owner"], name="saved_view_index_owner")]

    def __str__(self):
        return self.name
