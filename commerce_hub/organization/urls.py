from django.urls import path

from commerce_hub.organization import views

app_name = "organization"
urlpatterns = [
    path("settings/company/", views.profile, name="profile"),
    path("settings/branding/", views.branding, name="branding"),
    path("branding/logo/", views.logo, name="logo"),
]
