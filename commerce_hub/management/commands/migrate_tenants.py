"""Migrate every tenant schema that is behind, in parallel, with a progress bar, stop and resume.

    manage.py migrate_tenants                      # the schemas that are behind, in processes
    manage.py migrate_tenants --check              # list them, exit 1 if any
    manage.py migrate_tenants --resume <run>       # continue a stopped run
    manage.py migrate_tenants --stop <run>         # ask a running run (processes or Celery) to stop
    manage.py migrate_tenants --status <run>       # what a run did, failures with their error
    manage.py migrate_tenants --celery             # one task per batch on the "migrations" queue, followed here

The public schema's own migrations stay with `migrate_schemas --shared` (run it first).
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from commerce_hub.tenancy import schema_migrations as sm


class Command(BaseCommand):
    help = "Migrate the tenant schemas that are behind (one query finds them), in parallel, resumable."

    def add_arguments(self, parser):
        parser.add_argument("--processes", type=int, default=settings.TENANT_MULTIPROCESSING_MAX_PROCESSES)
        parser.add_argument("--resume", metavar="RUN", help="continue this run")
        parser.add_argument("--stop", metavar="RUN", help="ask this run to stop after the schemas in progress")
        parser.add_argument("--status", metavar="RUN", help="show this run's progress and failures")
        parser.add_argument("--limit", type=int, help="migrate at most this many schemas, then stop")
        parser.add_argument("--schema", action="append", dest="schemas", help="only this schema (repeatable)")
        parser.add_argument("--check", action="store_true", help="list the schemas that are behind; exit 1 if any")
        parser.add_argument("--celery", action="store_true", help="run as Celery tasks on the migrations queue")
        parser.add_argument("--batch-size", type=int, default=25, help="schemas per Celery task")
        parser.add_argument("--no-follow", action="store_true", help="with --celery: enqueue and return")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        if options["stop"]:
            sm.run_stop(options["stop"])
            self.stdout.write(f"Run {options['stop']} will stop after the schemas it is migrating now.")
            return
        if options["status"]:
            self._report(sm.run_status(options["status"]), skipped=None)
            return
        if options["check"]:
            behind = sm.schemas_behind(only=options["schemas"])
            for schema in behind:
                self.stdout.write(schema)
            if behind:
                raise CommandError(f"{len(behind)} tenant schemas are behind.", returncode=1)
            self.stdout.write("Every tenant schema is current.")
            return
        if options["celery"]:
            return self._celery(options)

        bar = _Progress(enabled=not options["no_progress"] and options["verbosity"] >= 1, stream=self.stderr)
        run, status = sm.tenants_migrate(
            run=options["resume"],
            processes=options["processes"],
            only=options["schemas"],
            limit=options["limit"],
            on_plan=bar.start,
            on_result=bar.update,
        )
        bar.close()
        self._report(status, skipped=bar.total is not None)

    def _celery(self, options):
        from commerce_hub.tenancy.tasks import tenants_migrate_enqueue

        run, behind = tenants_migrate_enqueue(
            run=options["resume"], only=options["schemas"], batch_size=options["batch_size"], limit=options["limit"]
        )
        self.stdout.write(f"Run {run}: {len(behind)} schemas behind, in tasks of {options['batch_size']}.")
        if options["no_follow"] or not behind:
            return
        bar = _Progress(enabled=not options["no_progress"] and options["verbosity"] >= 1, stream=self.stderr)
        bar.start(behind)
        seen = 0
        while True:
            status = sm.run_status(run)
            for _ in range(status.finished - seen):
                bar.update(None)
            seen = status.finished
            if not status.pending or sm.run_batches_left(run) <= 0:
                break
            time.sleep(0.5)
        bar.close()
        self._report(status, skipped=True)

    def _report(self, status: sm.RunStatus, skipped):
        self.stdout.write(
            f"Run {status.run}: {len(status.done)} schemas migrated, {len(status.failed)} failed, "
            f"{len(status.pending)} not started" + (" (stop requested)" if status.stop_requested else "") + "."
        )
        for schema, error in status.failed.items():
            self.stdout.write(f"  FAILED {schema}: {error}")
        if status.pending:
            self.stdout.write(f"Resume with: manage.py migrate_tenants --resume {status.run}")
        if status.failed:
            raise CommandError(f"{len(status.failed)} tenant schemas failed to migrate (each was left unchanged).")


class _Progress:
    """tqdm when it is installed (it is a dependency), else a plain counter."""

    def __init__(self, *, enabled: bool, stream):
        self.enabled, self.stream, self.total, self.bar, self.count = enabled, stream, None, None, 0

    def start(self, schemas):
        self.total = len(schemas)
        if not self.enabled:
            return
        try:
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, unit="schema", file=self.stream._out, dynamic_ncols=True)
        except ImportError:  # pragma: no cover
            self.bar = None

    def update(self, result):
        self.count += 1
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(1)
            if result is not None and not result.ok:
                self.bar.write(f"FAILED {result.schema}: {result.error}")
        else:
            self.stream.write(f"{self.count}/{self.total}")

    def close(self):
        if self.bar is not None:
            self.bar.close()
