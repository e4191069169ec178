from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """Processors, hosted checkout, refunds, disputes and payouts. Its pages come with the processors; until then the
    Payments page shows an empty state."""

    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        from commerce_hub import registry

        registry.register_permissions("payments", [("manage_refunds", "Issue refunds", ("finance",))])

        # Processor calls and incoming webhooks get their own queues: a slow processor never delays a webhook ack.
        registry.register_queue("payments", routes=["payments.*"])
        registry.register_queue("webhooks", routes=["payments.webhooks.*"])

        registry.register_placeholder_page(
            slug="payments",
            title=_("Payments"),
            permission="accounts.view_payments",
            empty_title=_("No payments yet"),
            empty_text=_("Payments from buyers and recorded payments appear here."),
        )
        registry.register_nav_entry(
            key="payments",
            label=_("Payments"),
            section="commerce",
            order=60,
            url_name="module_payments",
            permission="accounts.view_payments",
        )
