"""Subscription background work: the hourly billing run across tenants, and emailing the invoices it made. Tasks
are thin: they load by id and call one service."""

from celery import shared_task

from commerce_hub.celery import PublicTask, enqueue_for_every_tenant


@shared_task(name="billing.subscriptions_bill_due")
def subscriptions_bill_due() -> int:
    """Bill the tenant's due subscriptions; "today" is the tenant's, in its own timezone. Returns the invoices made."""
    from billing.services.subscription_billing import subscriptions_bill_due as bill

    return bill().invoices


@shared_task(name="billing.subscriptions_bill_due_all_tenants", base=PublicTask)
def subscriptions_bill_due_all_tenants() -> int:
    return enqueue_for_every_tenant(subscriptions_bill_due)


@shared_task(name="billing.subscription_invoices_email")
def subscription_invoices_email(invoice_ids: list[int]) -> int:
    """Email the billing run's invoices that are not charged automatically. Safe to run twice: an invoice sent
    already is not sent again."""
    from billing.services.subscription_billing import subscription_invoices_send

    return subscription_invoices_send(invoice_ids=invoice_ids)
