from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "commerce_hub.tenancy"
    label = "tenancy"
    verbose_name = "Tenancy"

    def ready(self):
        from commerce_hub import registry

        # Tenant schema migrations run as Celery tasks here (manage.py migrate_tenants --celery).
        registry.register_queue("migrations", routes=["commerce_hub.tenancy.schemas_migrate"])
        registry.register_beat("tenancy-spare-pool", task="commerce_hub.tenancy.spare_pool_refill", schedule=300.0)
