"""Payments background work. Tasks are thin: each loads by id or runs one service, in the tenant schema it was
enqueued in; the *_all_tenants tasks fan a periodic job out, one message per tenant."""

from celery import shared_task

from commerce_hub.celery import PublicTask, enqueue_for_every_tenant


@shared_task(name="payments.payment_process", acks_late=True)
def payment_process(payment_id: int) -> None:
    """Charge an off-session attempt. acks_late: a worker killed mid-charge leaves the message to be run again,
    which asks the processor with the attempt's key instead of charging twice."""
    from payments.services.payments import payment_process as process

    process(payment_id=payment_id)


@shared_task(name="payments.reconcile")
def reconcile() -> int:
    """Attempts and refunds whose answer was lost: ask the processor, never charge again."""
    from payments.services.payments import payments_reconcile
    from payments.services.refunds import refunds_reconcile

    return payments_reconcile() + refunds_reconcile()


@shared_task(name="payments.reconcile_all_tenants", base=PublicTask)
def reconcile_all_tenants() -> int:
    return enqueue_for_every_tenant(reconcile)


@shared_task(name="payments.builtin_tick")
def builtin_tick() -> int:
    """The built-in processor's clock: debits settle or fail, disputes open and are decided."""
    from payments.services.processor_events import builtin_tick_apply

    return builtin_tick_apply()


@shared_task(name="payments.builtin_tick_all_tenants", base=PublicTask)
def builtin_tick_all_tenants() -> int:
    return enqueue_for_every_tenant(builtin_tick)


@shared_task(name="payments.payouts")
def payouts() -> int:
    """Built-in payouts move along and the day's payout is made; new payouts are emailed to admins."""
    from django.utils import timezone

    from commerce_hub.organization.selectors import organization_profile_get
    from payments.services.payouts import payouts_job

    # "Today" is the tenant's: a payout day and the settlement delay follow its own timezone.
    with timezone.override(organization_profile_get().timezone):
        return payouts_job()


@shared_task(name="payments.payouts_all_tenants", base=PublicTask)
def payouts_all_tenants() -> int:
    return enqueue_for_every_tenant(payouts)
