from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        from commerce_hub import demo
        from crm import demo_data

        demo.register_seeder("crm", demo_data.seed, order=10)

        from commerce_hub.dashboard import register_widget
        from crm.selectors import crm_dashboard_figures

        register_widget(
            name="crm-overview",
            order=10,
            permission="accounts.view_crm",
            template="crm/widgets/overview.html",
            context=lambda request: crm_dashboard_figures(),
        )
