"""Billing background work. Tasks are thin: they load by id and call one service."""

from celery import shared_task

from billing.imports import jobs


@shared_task(name="billing.product_import_validate")
def product_import_validate(job_id: int) -> None:
    jobs.product_import_validate(job_id=job_id)


@shared_task(name="billing.product_import_run")
def product_import_run(job_id: int) -> None:
    jobs.product_import_run(job_id=job_id)
