from django.urls import path

from billing.views import invoice_settings as views

urlpatterns = [
    path("invoices/settings/", views.invoice_settings, name="invoice_settings"),
    path(
        "invoices/settings/reminders/<int:pk>/delete/",
        views.invoice_settings_step_delete,
        name="invoice_settings_step_delete",
    ),
]
