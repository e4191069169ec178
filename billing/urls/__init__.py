"""Billing routes, one module per area."""

from billing.urls import exchange_rates, line_items, products, tax_rates

app_name = "billing"
urlpatterns = [
    *products.urlpatterns,
    *tax_rates.urlpatterns,
    *line_items.urlpatterns,
    *exchange_rates.urlpatterns,
]
