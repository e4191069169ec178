from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        from commerce_hub import demo
        from crm import demo_data

        demo.register_seeder("crm", demo_data.seed, order=10)
