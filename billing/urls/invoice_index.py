from django.urls import path

from billing.views import invoice_index as views

urlpatterns = [
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/totals/", views.invoice_list_totals, name="invoice_list_totals"),
    path("invoices/export/", views.invoice_export, name="invoice_export"),
    path("invoices/views/save/", views.invoice_view_save, name="invoice_view_save"),
    path("invoices/views/<int:pk>/delete/", views.invoice_view_delete, name="invoice_view_delete"),
]
