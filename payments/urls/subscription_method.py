"""The buyer's page where a subscription's payment method is updated after a failed charge (no login: the
subscription's public token). Under pay/, so a guessed token counts against the hosted-link limit."""

from django.urls import path

from payments.views import subscription_method

urlpatterns = [
    path("pay/subscription/<str:token>/", subscription_method.subscription_method, name="subscription_method"),
]
