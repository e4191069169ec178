"""Subscription background work: the hourly billing run across tenants, and emailing the invoices it made. Tasks
are thin: they load by id and call one service."""

from celery import shared_task

from billing.services import subscription_billing
from commerce_hub.celery import PublicTask, enqueue_for_every_tenant


@shared_task(name="billing.subscriptions_bill_due")
def subscriptions_bill_due() -> int:
    """Bill the tenant's due subscriptions; "today" is the tenant's, in its own timezone. Returns the invoices made."""
    return subscription_billing.subscriptions_bill_due().invoices


@shared_task(name="billing.subscriptions_bill_due_all_tenants", base=PublicTask)
def subscriptions_bill_due_all_tenants() -> int:
    return enqueue_for_every_tenant(subscriptions_bill_due)


@shared_task(name="billing.subscription_invoices_email")
def subscription_invoices_email(invoice_ids: list[int]) -> int:
    """Email the billing run's invoices that are not charged automatically. Safe to run twice: an invoice sent
    already is not sent again."""
    return subscription_billing.subscription_invoices_send(invoice_ids=invoice_ids)


subscription_billing.invoices_email_enqueuer_set(subscription_invoices_email.delay_on_commit)
