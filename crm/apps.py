from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

ALL_ROLES = ("sales", "finance", "read_only")


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = "CRM"

    def ready(self):
        from commerce_hub import demo, registry
        from crm import demo_data

        demo.register_seeder("crm", demo_data.seed, order=10)

        registry.register_permissions(
            "crm",
            [
                ("view_crm", "View contacts, companies and deals", ALL_ROLES),
                ("edit_crm", "Create and edit contacts, companies and deals", ("sales",)),
                ("delete_crm", "Delete contacts, companies and deals", ()),
                ("import_crm", "Import CRM records", ("sales",)),
            ],
        )

        registry.register_nav_section(key="crm", label=_("CRM"), order=10)
        for order, (key, label, url_name, permission) in enumerate(
            [
                ("contacts", _("Contacts"), "crm:contact_list", "accounts.view_crm"),
                ("companies", _("Companies"), "crm:company_list", "accounts.view_crm"),
                ("deals", _("Deals"), "crm:deal_list", "accounts.view_crm"),
                ("lists", _("Lists"), "crm:list_index", "accounts.view_crm"),
                ("imports", _("Imports"), "crm:import_list", ("accounts.view_crm", "accounts.import_crm")),
                ("tasks", _("Tasks"), "crm:my_tasks", "accounts.view_crm"),
            ]
        ):
            registry.register_nav_entry(
                key=key, label=label, section="crm", order=order * 10, url_name=url_name, permission=permission
            )

        # Company-wide CRM configuration sits among the settings, after the company profile and branding.
        for key, label, url_name, order in [
            ("pipelines", _("Pipelines"), "crm:pipeline_list", 30),
            ("lifecycle", _("Lifecycle stages"), "crm:lifecycle_list", 40),
            ("properties", _("Properties"), "crm:property_list", 50),
        ]:
            registry.register_settings_tab(
                key=key, label=label, order=order, url_name=url_name, permission="accounts.manage_settings"
            )

        from commerce_hub.dashboard import register_widget
        from crm.selectors import crm_dashboard_figures

        register_widget(
            name="crm-overview",
            order=10,
            permission="accounts.view_crm",
            template="crm/widgets/overview.html",
            context=lambda request: crm_dashboard_figures(),
        )
