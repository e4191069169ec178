from django.urls import path

from billing.views import receivables as views

urlpatterns = [
    path("payments/<int:pk>/reverse/", views.payment_reverse, name="payment_reverse"),
    path("invoices/<int:pk>/apply-credit/", views.invoice_apply_credit, name="invoice_apply_credit"),
    path("credit/<str:kind>/<int:pk>/new/", views.customer_credit_new, name="customer_credit_new"),
]
