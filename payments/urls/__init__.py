"""Tenant URLs of payments, one module per area: the buyer's checkout (and the built-in processor's simulated bank
and wallet pages), the staff's payment and refund records, payouts, and settings."""

from django.urls import include, path

app_name = "payments"

urlpatterns = [
    path("", include("payments.urls.subscription_method")),
    path("", include("payments.urls.checkout")),
    path("", include("payments.urls.records")),
    path("", include("payments.urls.payouts")),
    path("", include("payments.urls.settings")),
]
