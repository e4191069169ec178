"""Billing background work. Tasks are thin: they load by id (or token) and call one service."""

from celery import shared_task

from billing.imports import jobs


@shared_task(name="billing.product_import_validate")
def product_import_validate(token: str) -> None:
    jobs.product_import_validate(token=token)


@shared_task(name="billing.product_import_run")
def product_import_run(token: str) -> None:
    jobs.product_import_run(token=token)
