from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "commerce_hub.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"
