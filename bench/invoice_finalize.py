"""Invoice finalization throughput with 16 concurrent clients, against the same transaction without the counter lock.

    python -m commerce_hub.embedded exec -- python bench/invoice_finalize.py

Both runs finalize the same kind of draft (two lines, VAT, a buyer) through the same service code in 16
processes, each with its own connection. The baseline replaces number_take with an unlocked stand-in (a number
made up in the process, no UPDATE of the series row), so the difference is exactly what serializing on the counter
row costs. Goal: locked throughput at least 0.5x the baseline.
"""

import itertools
import multiprocessing
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.crm_index import _bench_database_url  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_CLIENTS", 16))
PER_RUN = int(os.environ.get("BENCH_INVOICES", 300))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))
SUBDOMAIN = "bench-finalize"


def _finalize(args) -> None:
    from django_tenants.utils import schema_context

    from billing.models import Invoice
    from billing.services import invoices as invoice_services

    schema, pk = args
    with schema_context(schema):
        invoice_services.invoice_finalize(invoice=Invoice(pk=pk), actor=None)


def main() -> int:
    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce_hub.settings")
    os.environ["DEBUG"] = "0"
    os.environ["COMMERCE_HUB_TESTING"] = "1"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django_tenants.utils import schema_context

    from billing.models import Invoice, NumberSeries
    from billing.services import invoices as invoice_services
    from commerce_hub.tenancy.models import Tenant
    from commerce_hub.tenancy.services import platform_bootstrap
    from tests.billing.invoicing import draft_make, seller_ready

    call_command("migrate_schemas", shared=True, verbosity=0)
    platform_bootstrap()
    call_command("migrate_schemas", verbosity=0)
    schema = "t_" + SUBDOMAIN.replace("-", "_")
    if not Tenant.objects.filter(schema_name=schema).exists():
        call_command("seed_demo", "--subdomain", SUBDOMAIN, "--no-progress")

    def drafts(count: int) -> list[int]:
        with schema_context(schema):
            seller_ready()
            return [
                draft_make(lines=(("Consulting", "2", "100.00", None), ("Licence", "1", "49.00", None))).pk
                for _ in range(count)
            ]

    def run(ids: list[int], mode: str) -> float:
        # Sixteen processes, like sixteen web workers: threads would serialize on the GIL instead of the row lock.
        invoice_services.number_take = unlocked_take if mode == "unlocked" else real_take
        connections.close_all()  # forked children must open their own connections
        started = time.perf_counter()
        with multiprocessing.get_context("fork").Pool(CLIENTS) as pool:
            pool.map(_finalize, [(schema, pk) for pk in ids], chunksize=4)
        elapsed = time.perf_counter() - started
        invoice_services.number_take = real_take
        return len(ids) / elapsed

    real_take = invoice_services.number_take

    def unlocked_take(*, key):  # the same transaction, minus the series row lock: a number no other process uses
        n = int(time.time() * 1000) * 10**4 + os.getpid() % 10**4
        return f"BASE-{n}-{next(_local)}", n

    _local = itertools.count()
    run(drafts(48), "locked")  # warm the database caches
    results = {"locked": [], "unlocked": []}
    for _round in range(ROUNDS):
        for mode in ("unlocked", "locked"):
            ids = drafts(PER_RUN)
            results[mode].append(run(ids, mode))

    with schema_context(schema):
        numbers = sorted(Invoice.objects.filter(number__startswith="INV-").values_list("sequence", flat=True))
        gaps = sum(1 for a, b in itertools.pairwise(numbers) if b != a + 1)
        series = NumberSeries.objects.get(key="invoice")
    best = {mode: statistics.median(values) for mode, values in results.items()}
    print(f"{CLIENTS} concurrent clients, {PER_RUN} finalizations per run, {ROUNDS} runs each, interleaved (median)")
    for mode in ("unlocked", "locked"):
        print(f"  {mode:9} {' / '.join(f'{v:6.1f}' for v in results[mode])} finalizations/s")
    print(f"  locked / unlocked: {best['locked'] / best['unlocked']:.2f}x (goal: at least 0.5x)")
    print(f"  numbers issued by the locked runs: {len(numbers)}, gaps: {gaps}, next number {series.next_number}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
