"""Dunning of subscription invoices (billing.services.subscription_dunning): the handlers that stop it however the
invoice is settled (paid by a retry, on the hosted page, by hand or with credit; voided; written off), and the retry
job's beat entry."""

from billing import events
from commerce_hub.events.registry import handler


@handler(events.INVOICE_PAID, name="billing.dunning_on_invoice_paid")
def dunning_on_invoice_paid(event, *, delivery_id: int) -> None:
    """Every way of paying an invoice stops its dunning: the case is recovered once (its row lock and state)."""
    from billing.services.subscription_dunning import dunning_recover

    dunning_recover(invoice_id=event.payload["id"])


@handler(events.INVOICE_VOIDED, name="billing.dunning_on_invoice_voided")
def dunning_on_invoice_voided(event, *, delivery_id: int) -> None:
    from billing.services.subscription_dunning import dunning_stop

    dunning_stop(invoice_id=event.payload["id"])


@handler(events.INVOICE_UNCOLLECTIBLE, name="billing.dunning_on_invoice_uncollectible")
def dunning_on_invoice_uncollectible(event, *, delivery_id: int) -> None:
    from billing.services.subscription_dunning import dunning_stop

    dunning_stop(invoice_id=event.payload["id"])


def register() -> None:
    """Called once from BillingConfig.ready()."""
    from billing import dunning_tasks  # noqa: F401 - registers the tasks with the worker
    from commerce_hub import registry

    # Retries come due at the minute their schedule says; a quarter of an hour late at most.
    registry.register_beat("billing-dunning-retries", task="billing.dunning_retries_all_tenants", schedule=900.0)
