"""CRM routes, one module per area."""

from crm.urls import board, configuration, imports, index, lists, records

app_name = "crm"
urlpatterns = [
    *index.urlpatterns,
    *records.urlpatterns,
    *board.urlpatterns,
    *configuration.urlpatterns,
    *imports.urlpatterns,
    *lists.urlpatterns,
]
