from django.urls import path

from billing.views import tax_rates as views

urlpatterns = [
    path("settings/tax-rates/", views.tax_rate_list, name="tax_rate_list"),
    path("settings/tax-rates/<int:pk>/", views.tax_rate_edit, name="tax_rate_edit"),
    path("settings/tax-rates/<int:pk>/archive/", views.tax_rate_archive, name="tax_rate_archive"),
]
