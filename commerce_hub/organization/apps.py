from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationConfig(AppConfig):
    name = "commerce_hub.organization"
    label = "organization"
    verbose_name = "Company profile and branding"

    def ready(self):
        from commerce_hub import registry

        for key, label, url_name, order in [
            ("profile", _("Company profile"), "organization:profile", 10),
            ("branding", _("Branding"), "organization:branding", 20),
        ]:
            registry.register_settings_tab(
                key=key, label=label, order=order, url_name=url_name, permission="accounts.manage_settings"
            )
