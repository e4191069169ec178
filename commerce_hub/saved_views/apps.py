from django.apps import AppConfig


class SavedViewsConfig(AppConfig):
    name = "commerce_hub.saved_views"
    label = "saved_views"
    verbose_name = "Saved views"
