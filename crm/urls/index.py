from django.urls import path, register_converter

from crm.urls.converters import PluralConverter
from crm.views import index

register_converter(PluralConverter, "crm_plural")

urlpatterns = [
    path("companies/", index.record_index, {"plural": "companies"}, name="company_list"),
    path("contacts/", index.record_index, {"plural": "contacts"}, name="contact_list"),
    path("deals/", index.record_index, {"plural": "deals"}, name="deal_list"),
    path("<crm_plural:plural>/views/save/", index.saved_view_save, name="saved_view_save"),
    path("<crm_plural:plural>/views/<int:pk>/delete/", index.saved_view_remove, name="saved_view_delete"),
    path("<crm_plural:plural>/bulk/", index.bulk_action, name="bulk_action"),
    path("<crm_plural:plural>/export.csv", index.export_csv, name="export_csv"),
]
