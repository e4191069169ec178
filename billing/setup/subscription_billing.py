"""The billing run: the hourly job that bills every tenant's due subscriptions, and its Celery tasks."""


def register() -> None:
    """Called once from BillingConfig.ready()."""
    from billing import subscription_tasks  # noqa: F401 - registers the tasks (autodiscovery finds tasks.py only)
    from commerce_hub import registry

    # Exactly once per period whatever runs twice, so hourly catches up after any outage and bills within an hour
    # of midnight in every tenant's timezone.
    registry.register_beat(
        "billing-subscriptions-hourly", task="billing.subscriptions_bill_due_all_tenants", schedule=3600.0
    )
