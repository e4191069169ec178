"""CRM background work. Tasks are thin: they load by id and call one service."""

from celery import shared_task

from crm.services import imports


@shared_task(name="crm.import_validate")
def import_validate(job_id: int) -> None:
    imports.import_job_validate(job_id=job_id)


@shared_task(name="crm.import_run")
def import_run(job_id: int) -> None:
    imports.import_job_run(job_id=job_id)
