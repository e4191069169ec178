"""Public-site URLs of payments: processors' webhooks, addressed by an unguessable endpoint id per tenant."""

from django.urls import path

from payments.webhooks.views import stripe_webhook

app_name = "payments_public"

urlpatterns = [
    path("stripe/<slug:endpoint_id>/", stripe_webhook, name="stripe_webhook"),
]
