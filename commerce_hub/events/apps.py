from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "commerce_hub.events"
    label = "events"
    verbose_name = "Domain events"

    def ready(self):
        from celery.schedules import crontab

        from commerce_hub import registry

        # Each app declares its events in <app>/events.py (the catalogue) and subscribes in <app>/handlers.py.
        autodiscover_modules("events")
        autodiscover_modules("handlers")
        # Sets the hook through which recorded events reach a worker (the services do not import the tasks).
        from commerce_hub.events import tasks  # noqa: F401

        registry.register_queue("events", routes=["commerce_hub.events.*"])
        registry.register_beat("events-sweep-all-tenants", task="commerce_hub.events.sweep_all_tenants", schedule=60.0)
        # The admins' daily email of failures; idempotent per tenant and day, so firing twice sends once.
        registry.register_beat(
            "events-failure-digest-all-tenants", task=tasks.DIGEST_TASK, schedule=crontab(minute=0, hour=6)
        )
        registry.register_settings_tab(
            key="events",
            label=_("Event deliveries"),
            order=920,
            url_name="events:deliveries",
            permission="accounts.view_audit_log",
        )
