from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    """Accounting sync (Exact Online) and exports. Nothing runs yet but its queue, so a sync never waits behind
    billing work once it exists."""

    name = "integrations"
    verbose_name = "Integrations"

    def ready(self):
        from commerce_hub import registry

        registry.register_queue("sync", routes=["integrations.*"])

        from integrations.exact import setup as exact_setup

        exact_setup.register()

        from integrations.exports import setup as exports_setup

        exports_setup.register()
