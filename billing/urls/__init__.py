"""Billing routes, one module per area."""

from billing.urls import (
    exchange_rates,
    invoice_index,
    invoice_settings,
    invoices,
    line_items,
    payment_links,
    payment_links_hosted,
    products,
    quote_checkout,
    quote_hosted,
    quote_settings,
    quotes,
    receivables,
    subscriptions,
    tax_rates,
)

app_name = "billing"
urlpatterns = [
    *products.urlpatterns,
    *tax_rates.urlpatterns,
    *line_items.urlpatterns,
    *exchange_rates.urlpatterns,
    *invoice_index.urlpatterns,
    *invoice_settings.urlpatterns,
    *invoices.urlpatterns,
    *receivables.urlpatterns,
    *quotes.urlpatterns,
    *quote_hosted.urlpatterns,
    *quote_settings.urlpatterns,
    *quote_checkout.urlpatterns,
    *subscriptions.urlpatterns,
    *payment_links.urlpatterns,
    *payment_links_hosted.urlpatterns,
]
