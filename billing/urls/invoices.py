from django.urls import path

from billing.views import invoices as views

urlpatterns = [
    path("invoices/new/", views.invoice_new, name="invoice_new"),
    path("invoices/buyers/", views.invoice_buyer_options, name="invoice_buyer_options"),
    path("invoices/from/<str:kind>/<int:pk>/", views.invoice_create_from, name="invoice_create_from"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/edit/", views.invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/finalize/", views.invoice_finalize, name="invoice_finalize"),
    path("invoices/<int:pk>/delete/", views.invoice_delete, name="invoice_delete"),
    path("invoices/<int:pk>/link/replace/", views.invoice_link_regenerate, name="invoice_link_regenerate"),
    path("invoices/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:pk>/send/", views.invoice_send, name="invoice_send"),
    path("invoices/<int:pk>/payments/new/", views.invoice_payment_new, name="invoice_payment_new"),
    path("invoices/<int:pk>/void/", views.invoice_void, name="invoice_void"),
    path("invoices/<int:pk>/uncollectible/", views.invoice_uncollectible, name="invoice_uncollectible"),
    path("invoices/<int:pk>/credit-notes/new/", views.credit_note_new, name="credit_note_new"),
    path("credit-notes/<int:pk>/pdf/", views.credit_note_pdf, name="credit_note_pdf"),
    # The buyer's hosted page: no login, an unguessable token in the URL.
    path("i/<str:token>/", views.invoice_hosted, name="invoice_hosted"),
    path("i/<str:token>/pdf/", views.invoice_hosted_pdf, name="invoice_hosted_pdf"),
]
