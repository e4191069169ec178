from django.apps import AppConfig


class OrganizationConfig(AppConfig):
    name = "commerce_hub.organization"
    label = "organization"
    verbose_name = "Company profile and branding"
