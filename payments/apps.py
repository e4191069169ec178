from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PaymentsConfig(AppConfig):
    """Processors (built-in and Stripe), hosted checkout, payments, refunds, disputes, receipts, the processor
    balance and payouts. It sits above billing: it records money through billing's services, and billing never
    imports it."""

    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        from billing.services.numbering import number_series_register
        from commerce_hub import registry
        from payments import events, handlers, tasks  # noqa: F401 - declares events, registers handlers and tasks

        registry.register_permissions("payments", [("manage_refunds", "Issue refunds", ("finance",))])

        from commerce_hub import demo
        from payments import demo as payments_demo

        demo.register_seeder("payments", payments_demo.seed, order=40, after_commit=True)
        number_series_register("receipt", prefix="RCPT", start=1001)

        from payments import lists
        from payments.services import receipts  # noqa: F401 - registers the receipt PDF attachment

        lists.criteria_register()  # CRM lists: contacts who made a payment in the last N days

        # Processor calls and incoming webhooks get their own queues: a slow processor never delays a webhook ack.
        registry.register_queue("payments", routes=["payments.*"])
        registry.register_queue("webhooks", routes=["payments.webhooks.*"])
        # Lost answers are asked for every minute; the built-in processor's clock (debits, disputes) too.
        registry.register_beat("payments-reconcile", task="payments.reconcile_all_tenants", schedule=60.0)
        registry.register_beat("payments-builtin-tick", task="payments.builtin_tick_all_tenants", schedule=60.0)
        # Stripe's webhook events that failed come due again after their backoff.
        from payments.webhooks import tasks as webhook_tasks  # noqa: F401 - registers the tasks with the worker

        registry.register_beat("payments-webhooks-retry", task="payments.webhooks.retry_all_tenants", schedule=60.0)
        registry.register_settings_tab(
            key="payments",
            label=_("Payments"),
            order=90,
            url_name="payments:settings",
            permission="accounts.manage_settings",
        )
        # Payouts: hourly, each run idempotent (one payout per currency and day, each emailed once).
        registry.register_beat("payments-payouts", task="payments.payouts_all_tenants", schedule=3600.0)

        registry.register_urls("payments/", "payments.urls")
        registry.register_urls("webhooks/", "payments.urls_public", public=True)
        # The hosted invoice page's Pay button leads to the checkout: billing offers the seam, never imports us.
        from billing.hosted import register_pay_url
        from payments.views.checkout import checkout_pay_url

        register_pay_url(checkout_pay_url)
        # Subscriptions charged automatically: the collector, the checkout's saved method, dunning's buyer page.
        from payments.services import subscription_charges

        subscription_charges.register()
        registry.register_nav_entry(
            key="payments",
            label=_("Payments"),
            section="commerce",
            order=60,
            url_name="payments:payment_index",
            permission="accounts.view_payments",
        )
        registry.register_nav_entry(
            key="payouts",
            label=_("Payouts"),
            section="commerce",
            order=62,
            url_name="payments:payout_index",
            permission="accounts.view_payments",
        )
