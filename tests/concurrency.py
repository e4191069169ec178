"""Running a piece of work in many threads at the same moment, for the tests that must not let something happen
twice. Each thread has its own database connection, in the live tenant's schema (data committed, visible to all),
and waits at a barrier so they start together."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection
from django_tenants.utils import schema_context


def in_threads(count: int, fn, *, schema: str = "t_live", wait: float = 30) -> list:
    """fn(n) for n in range(count), all at once; the results in order."""
    start = threading.Barrier(count)

    def run(n):
        try:
            with schema_context(schema):
                start.wait(wait)
                return fn(n)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))
