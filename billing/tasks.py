"""Billing background work. Tasks are thin: they load by id and call one service."""

from celery import shared_task

from billing.imports import jobs
from commerce_hub.celery import PublicTask, enqueue_for_every_tenant


@shared_task(name="billing.product_import_validate")
def product_import_validate(job_id: int) -> None:
    jobs.product_import_validate(job_id=job_id)


@shared_task(name="billing.product_import_run")
def product_import_run(job_id: int) -> None:
    jobs.product_import_run(job_id=job_id)


@shared_task(name="billing.invoice_pdf_render")
def invoice_pdf_render(invoice_id: int) -> None:
    from billing.models import Invoice
    from billing.pdf import invoice_pdf_bytes

    invoice = Invoice.objects.filter(pk=invoice_id).exclude(status="draft").first()
    if invoice is not None:
        invoice_pdf_bytes(invoice)


@shared_task(name="billing.invoices_daily")
def invoices_daily() -> None:
    """Overdue flags, then reminders, then late fees: each step is idempotent, so beat may fire it hourly."""
    from django.utils import timezone

    from billing.services.invoice_payments import invoices_mark_overdue
    from billing.services.reminders import late_fees_create, reminders_send
    from commerce_hub.organization.selectors import organization_profile_get

    # "Today" is the tenant's: its due dates, weekends and reminder days follow its own timezone.
    with timezone.override(organization_profile_get().timezone):
        invoices_mark_overdue()
        reminders_send()
        late_fees_create()


@shared_task(name="billing.invoices_daily_all_tenants", base=PublicTask)
def invoices_daily_all_tenants() -> int:
    return enqueue_for_every_tenant(invoices_daily)
