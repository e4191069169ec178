from collections.abc import Iterable

from celery import shared_task

from commerce_hub.celery import PublicTask
from commerce_hub.tenancy import schema_migrations as sm
from commerce_hub.tenancy.services import SPARE_POOL_REFILL_TASK, spare_pool_fill

# Routed to the "migrations" queue (tenancy/apps.py): a worker started with `-Q migrations` on each machine that
# should help; web requests and email never wait behind a long migration.
SCHEMAS_MIGRATE_TASK = "commerce_hub.tenancy.schemas_migrate"


@shared_task(name=SPARE_POOL_REFILL_TASK, base=PublicTask)
def spare_pool_refill() -> int:
    return spare_pool_fill()


@shared_task(name=SCHEMAS_MIGRATE_TASK, base=PublicTask, acks_late=True)
def schemas_migrate(run: str, schemas: list[str]) -> int:
    """Migrate one batch of schemas, each in its own transaction; state and errors go to the run (Redis).

    acks_late: a worker that dies mid-batch leaves the message to be delivered again; the schemas it finished are
    current by then and are skipped, so nothing runs twice.
    """
    migrated = 0
    try:
        behind = sm.schemas_behind(only=schemas)
        # A schema of the batch that is already current (another worker, an earlier delivery) counts as done.
        for schema in sorted(set(schemas) - set(behind)):
            sm.run_record(run, sm.SchemaResult(schema, True, 0.0))
        for schema in behind:
            if sm.run_stopping(run):
                break
            result = sm.schema_migrate(schema)
            sm.run_record(run, result)
            migrated += result.ok
    finally:
        sm.run_batch_finished(run)
    return migrated


def tenants_migrate_enqueue(
    *, run: str | None = None, only: Iterable[str] | None = None, batch_size: int = 25, limit: int | None = None
) -> tuple[str, list[str]]:
    """Start (or resume) a run as Celery tasks: the schemas behind, found in one query, in batches."""
    run = run or sm.run_new()
    queued = sm.schemas_behind(only=only)
    sm.run_start(run, queued, mode="celery")
    behind = queued if limit is None else queued[:limit]
    batches = [behind[i : i + batch_size] for i in range(0, len(behind), batch_size)]
    sm.run_batches_set(run, len(batches))
    for batch in batches:
        schemas_migrate.apply_async((run, batch))
    return run, behind
