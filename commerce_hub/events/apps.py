from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "commerce_hub.events"
    label = "events"
    verbose_name = "Domain events"

    def ready(self):
        # Each app registers its handlers in <app>/handlers.py.
        autodiscover_modules("handlers")

        from commerce_hub import registry

        registry.register_queue("events", routes=["commerce_hub.events.*"])
        registry.register_beat("events-sweep-all-tenants", task="commerce_hub.events.sweep_all_tenants", schedule=60.0)
        registry.register_settings_tab(
            key="events",
            label=_("Event deliveries"),
            order=920,
            url_name="events:deliveries",
            permission="accounts.view_audit_log",
        )
