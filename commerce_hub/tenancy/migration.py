import os

from django_tenants.migration_executors import get_executor as tenants_get_executor
from django_tenants.migration_executors.multiproc import MultiprocessingExecutor
from django_tenants.migration_executors.standard import StandardExecutor


class ParallelExecutor(MultiprocessingExecutor):
    """Migrates many tenant schemas in a process pool, and a single schema in-process.

    A single schema is what signup, the template bootstrap and the test database ask for: a pool would only add
    a fork and close the caller's database connection under it.
    """

    codename = "parallel"

    def run_migrations(self, tenants=None):
        tenants = list(tenants or [])
        if len([t for t in tenants if t != self.PUBLIC_SCHEMA_NAME]) <= 1:
            return StandardExecutor(self.args, self.options).run_migrations(tenants=tenants)
        # Forked children must not inherit the parent's connection pool (its sockets and its threads do not
        # survive a fork): close it, and each child opens its own.
        from django.db import connections

        for conn in connections.all(initialized_only=True):
            if hasattr(conn, "close_pool"):
                conn.close_pool()
        return super().run_migrations(tenants=tenants)


def get_executor(codename=None):
    """`migrate_schemas` is parallel by default; --executor=standard (or EXECUTOR=standard) runs one at a time."""
    codename = codename or os.environ.get("EXECUTOR", ParallelExecutor.codename)
    if codename == ParallelExecutor.codename:
        return ParallelExecutor
    return tenants_get_executor(codename)
