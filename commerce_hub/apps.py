from django.apps import AppConfig


class CommerceHubConfig(AppConfig):
    """The platform package: shared templates tags, management commands and helpers for every app."""

    name = "commerce_hub"
    verbose_name = "Commerce Hub"
