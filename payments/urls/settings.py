from django.urls import path

from payments.views import settings as views

urlpatterns = [
    path("settings/", views.settings_page, name="settings"),
]
