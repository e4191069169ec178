"""Migrating many tenant schemas: the ones behind are found in one query, each is migrated in one transaction (a
failure is reported and leaves that schema as it was while the others migrate), and a stopped run resumes.

The schemas here are committed (the migrations run in other processes), so they are made and dropped per test.
A schema is put "behind" by unapplying the newest events migration (a new table and columns), as a deploy with a
new migration would find it.
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from commerce_hub.tenancy import schema_migrations as sm
from commerce_hub.tenancy.models import Tenant

LEAF = ("events", "0004_delivery_lease")
BEFORE = ("events", "0003_email_attachments")
SCHEMAS = ["t_mig_a", "t_mig_b", "t_mig_c"]


def has_leaf(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{schema}".django_migrations WHERE app = %s AND name = %s',  # noqa: S608
            list(LEAF),
        )
        applied = cursor.fetchone()[0] == 1
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s AND table_name = "
            "'events_delivery' AND column_name = 'failed_at'",
            [schema],
        )
        column = cursor.fetchone()[0] == 1
    assert applied == column, f"{schema}: the migration row and the schema disagree"
    return applied


@pytest.fixture
def behind(django_db_blocker):
    with django_db_blocker.unblock():
        for schema in SCHEMAS:
            Tenant(schema_name=schema, name=schema).save(verbosity=0)
            connection.set_schema(schema)
            MigrationExecutor(connection).migrate([BEFORE])
            connection.set_schema_to_public()
        try:
            yield SCHEMAS
        finally:
            connection.set_schema_to_public()
            for tenant in Tenant.objects.filter(schema_name__in=SCHEMAS):
                tenant.delete(force_drop=True)


def test_the_schemas_behind_are_found_in_one_query(behind):
    leaves = sm.migration_leaves()
    with CaptureQueriesContext(connection) as queries:
        found = sm.schemas_behind(leaves=leaves)
    assert found == SCHEMAS  # the template, alpha, bravo, live and the spares are current
    assert len([q for q in queries.captured_queries if not q["sql"].startswith("SET")]) == 1


def test_a_failing_schema_is_reported_and_left_unchanged_while_the_others_migrate(behind):
    # Something in t_mig_b is in the way of the migration's new table: its CREATE TABLE fails there.
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "t_mig_b".events_failuredigest (id int)')
    results = []
    run, status = sm.tenants_migrate(processes=2, on_result=results.append)

    assert status.done == ["t_mig_a", "t_mig_c"]
    assert list(status.failed) == ["t_mig_b"]
    assert 'relation "events_failuredigest" already exists' in status.failed["t_mig_b"]
    assert [has_leaf(s) for s in SCHEMAS] == [True, False, True]
    # The failed schema is exactly as before: the columns its other operations add are not there either.
    assert sm.schemas_behind() == ["t_mig_b"]
    assert sorted(r.schema for r in results) == SCHEMAS

    out = StringIO()
    with pytest.raises(CommandError, match="1 tenant schemas failed"):
        call_command("migrate_tenants", "--status", run, stdout=out)
    assert "FAILED t_mig_b: ProgrammingError" in out.getvalue()


def test_a_stopped_run_resumes_where_it_stopped(behind):
    run = sm.run_new()
    first = []

    def stop_after_one(result):
        first.append(result.schema)
        sm.run_stop(run)

    _run, status = sm.tenants_migrate(run=run, on_result=stop_after_one)
    assert first == ["t_mig_a"] and status.stop_requested
    assert status.pending == ["t_mig_b", "t_mig_c"]
    assert [has_leaf(s) for s in SCHEMAS] == [True, False, False]

    second = []
    _run, status = sm.tenants_migrate(run=run, on_result=lambda r: second.append(r.schema))
    assert second == ["t_mig_b", "t_mig_c"]  # t_mig_a is current: skipped, not migrated again
    assert status.done == SCHEMAS and not status.pending and not status.failed
    assert all(has_leaf(s) for s in SCHEMAS)


def test_the_command_checks_migrates_and_says_so(behind):
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("migrate_tenants", "--check", stdout=out)
    assert out.getvalue().split() == SCHEMAS

    out = StringIO()
    call_command("migrate_tenants", "--processes", "1", "--limit", "2", "--no-progress", stdout=out)
    assert "2 schemas migrated, 0 failed, 1 not started" in out.getvalue()
    run = out.getvalue().split()[1].rstrip(":")
    out = StringIO()
    call_command("migrate_tenants", "--resume", run, "--processes", "1", "--no-progress", stdout=out)
    assert f"Run {run}: 3 schemas migrated, 0 failed, 0 not started." in out.getvalue()
    call_command("migrate_tenants", "--check", stdout=StringIO())


def test_migrations_run_as_celery_tasks_followed_by_the_command(behind, eager_tasks):
    out = StringIO()
    call_command("migrate_tenants", "--celery", "--batch-size", "2", "--no-progress", stdout=out)
    assert "3 schemas behind, in tasks of 2" in out.getvalue()
    assert "3 schemas migrated, 0 failed, 0 not started." in out.getvalue()
    assert all(has_leaf(s) for s in SCHEMAS)


def test_the_migration_tasks_go_to_their_own_queue():
    from commerce_hub.celery import route_for_task
    from commerce_hub.tenancy.tasks import SCHEMAS_MIGRATE_TASK

    assert route_for_task(SCHEMAS_MIGRATE_TASK, (), {}, {})["queue"].endswith("migrations")
