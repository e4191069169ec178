from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

READERS = ("sales", "finance", "read_only")


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        # Billing sits above the CRM: it adds its line items panel to the deal page; the CRM never imports billing.
        from billing import demo_data, demo_invoices, demo_quotes
        from billing.services import invoice_emails  # noqa: F401 - registers the PDF attachment providers
        from commerce_hub import demo
        from crm.panels import register_panel

        demo.register_seeder("billing", demo_data.seed, order=20)
        demo.register_seeder("billing-invoices", demo_invoices.seed, order=30)
        demo.register_seeder("billing-quotes", demo_quotes.seed, order=35)

        def line_items_panel(request, record):
            from billing.views.line_items import deal_panel_context

            return deal_panel_context(request, record)

        register_panel(
            name="line-items",
            object_type="deal",
            order=10,
            permission="accounts.view_crm",
            template="billing/line_items/panel.html",
            context=line_items_panel,
        )

        from billing.panels import register_invoice_panels

        register_invoice_panels()

        from billing import line_item_owners
        from billing.editor import register_owner_kind

        register_owner_kind(line_item_owners.DEAL)
        register_owner_kind(line_item_owners.INVOICE)

        from billing.deletion_guards import register_deletion_guards

        register_deletion_guards()

        self._register_platform_parts()

        from billing.setup import quote_approvals, quote_builder, quote_checkout, quote_publishing, subscription_billing

        for feature in (quote_builder, quote_publishing, quote_approvals, quote_checkout, subscription_billing):
            feature.register()

        from billing.setup import payment_links

        payment_links.register()

        from billing.setup import subscription_dunning

        subscription_dunning.register()

        from billing.setup import subscriptions as subscription_management

        subscription_management.register()

    def _register_platform_parts(self):
        from commerce_hub import registry

        registry.register_permissions(
            "billing",
            [
                ("view_products", "View the product library", READERS),
                ("manage_products", "Create and edit products and folders", ("finance",)),
                ("view_quotes", "View quotes", READERS),
                ("edit_quotes", "Create and edit quotes", ("sales",)),
                ("view_invoices", "View invoices", READERS),
                # Sales reps invoice their own deals; an admin takes it away by giving someone another role.
                ("create_invoices", "Create invoices", ("sales", "finance")),
                ("edit_invoices", "Edit, finalize and void invoices", ("sales", "finance")),
                ("create_custom_line_items", "Create custom line items", ("sales", "finance")),
                # Payments recorded by hand on an invoice, and payment links, are billing's; processors are payments'.
                ("view_payments", "View payments and payouts", READERS),
                ("manage_payments", "Record and manage payments", ("finance",)),
                ("view_subscriptions", "View subscriptions", READERS),
                ("manage_subscriptions", "Manage subscriptions", ("finance",)),
                ("view_reports", "View reports", READERS),
            ],
        )

        registry.register_queue("billing", routes=["billing.*"])
        # Overdue flags, payment reminders and late fees; idempotent, so hourly catches up after any outage.
        registry.register_beat("billing-invoices-daily", task="billing.invoices_daily_all_tenants", schedule=3600.0)

        for key, label, url_name, order in [
            ("exchange_rates", _("Exchange rates"), "billing:exchange_rate_index", 60),
            ("tax_rates", _("Tax rates"), "billing:tax_rate_list", 70),
            ("invoices", _("Invoices"), "billing:invoice_settings", 80),
        ]:
            registry.register_settings_tab(
                key=key, label=label, order=order, url_name=url_name, permission="accounts.manage_settings"
            )

        registry.register_nav_section(key="commerce", label=_("Commerce"), order=20)
        for key, label, url_name, permission, order in [
            ("products", _("Products"), "billing:product_list", "accounts.view_products", 10),
            ("invoices", _("Invoices"), "billing:invoice_list", "accounts.view_invoices", 30),
        ]:
            registry.register_nav_entry(
                key=key, label=label, section="commerce", order=order, url_name=url_name, permission=permission
            )
