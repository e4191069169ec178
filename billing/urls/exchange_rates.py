from django.urls import path

from billing.views import exchange_rates as views

urlpatterns = [
    path("settings/exchange-rates/", views.exchange_rate_index, name="exchange_rate_index"),
    path("settings/exchange-rates/<int:pk>/", views.exchange_rate_edit, name="exchange_rate_edit"),
    path("settings/exchange-rates/<int:pk>/delete/", views.exchange_rate_delete_view, name="exchange_rate_delete"),
]
