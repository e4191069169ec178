"""Public-site URLs of payments: processors' webhooks, addressed by an unguessable endpoint id per tenant."""

app_name = "payments_public"

urlpatterns = []
