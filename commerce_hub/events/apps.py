from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class EventsConfig(AppConfig):
    name = "commerce_hub.events"
    label = "events"
    verbose_name = "Domain events"

    def ready(self):
        # Each app registers its handlers in <app>/handlers.py.
        autodiscover_modules("handlers")
