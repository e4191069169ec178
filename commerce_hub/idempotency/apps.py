from django.apps import AppConfig


class IdempotencyConfig(AppConfig):
    name = "commerce_hub.idempotency"
    label = "idempotency"
    verbose_name = "Idempotency keys"

    def ready(self):
        from commerce_hub import registry

        # Keys are kept 24 hours; pruning hourly keeps none much longer than that.
        registry.register_beat(
            "idempotency-prune-all-tenants", task="commerce_hub.idempotency.prune_all_tenants", schedule=3600.0
        )
