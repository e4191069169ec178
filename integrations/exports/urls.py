from django.urls import path

from integrations.exports import views

app_name = "exports"
urlpatterns = [
    path("", views.export_index, name="index"),
    path("invoices/<int:pk>/ubl/", views.invoice_ubl_download, name="invoice_ubl"),
    path("credit-notes/<int:pk>/ubl/", views.credit_note_ubl_download, name="credit_note_ubl"),
    path("settings/", views.export_settings, name="settings"),
]
