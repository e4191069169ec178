from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        # Billing sits above the CRM: it adds its line items panel to the deal page; the CRM never imports billing.
        from billing import demo_data, demo_invoices
        from billing.services import invoice_emails  # noqa: F401 - registers the PDF attachment providers
        from commerce_hub import demo
        from crm.panels import register_panel

        demo.register_seeder("billing", demo_data.seed, order=20)
        demo.register_seeder("billing-invoices", demo_invoices.seed, order=30)

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
