"""The subscription billing run at 100,000 due subscriptions across 10 tenants, against a COPY of the same number of
invoice and line rows into the same tables, measured in the same run.

    python -m commerce_hub.embedded exec -- python bench/billing_run.py [--subscriptions 100000] [--rounds 3]

Creates BENCH_TENANTS (10) tenants in <DATABASE_URL name>_bench and fills each with COPY: a tenth of the
subscriptions (monthly, charged automatically with a saved payment method), each with two lines (one at 21% VAT, one
without), for its own company. Then, round by round, alternating which goes first:
  run   - subscriptions_bill_due in each tenant, one after another in one process: every subscription due today,
          batches of 500: the invoices, their lines, the ledger's issue entries, numbers, timelines, audit rows,
          outbox events and the subscriptions advanced (the real service; the collector is a no-op, the enqueue of
          events to a broker is off: no worker runs here)
  copy  - plain psycopg COPY of the same number of invoice rows (drafts with the same snapshot) and line rows into
          billing_invoice and billing_lineitem of the same tenants (then deleted, not timed)
Before each run every subscription is made due again (its next period: nothing is billed twice), not timed.
Prints each round's seconds, the medians, run / copy (goal: at most 10x) and invoices per second. Every tenant is
dropped at the end.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.crm_index import _bench_database_url  # noqa: E402

TENANTS = int(os.environ.get("BENCH_TENANTS", 10))
PREFIX = "t_bench_billing_"


def _copy(cursor, model, objects) -> None:
    """COPY unsaved model instances into the model's table (every concrete column but the id), values prepared by
    the fields themselves as an INSERT would send them."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    with cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy:
        for obj in objects:
            copy.write_row([f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields])


def _ids_after(cursor, table: str, mark: int) -> list[int]:
    return [row[0] for row in cursor.execute(f"SELECT id FROM {table} WHERE id > %s ORDER BY id", [mark]).fetchall()]


def _max_id(cursor, table: str) -> int:
    return cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}").fetchone()[0]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=int(os.environ.get("BENCH_SUBSCRIPTIONS", 100_000)))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    args = parser.parse_args()
    per_tenant = args.subscriptions // TENANTS

    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce_hub.settings")
    os.environ["DEBUG"] = "0"
    os.environ["COMMERCE_HUB_TESTING"] = "1"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from billing.models import Invoice, LineItem, Subscription, TaxRate
    from billing.services.subscription_billing import subscriptions_bill_due, tenant_date
    from billing.subscription_collection import subscription_collector_register
    from billing.subscription_invoices import subscription_invoice_preview
    from commerce_hub.events import services as event_services
    from commerce_hub.organization.services import organization_profile_initialize
    from commerce_hub.tenancy.models import Tenant
    from commerce_hub.tenancy.services import platform_bootstrap
    from crm.models import Company

    call_command("migrate_schemas", shared=True, verbosity=0)
    platform_bootstrap()
    call_command("migrate_schemas", verbosity=0)
    schemas = [f"{PREFIX}{i}" for i in range(TENANTS)]
    for stale in Tenant.objects.filter(schema_name__startswith=PREFIX):
        stale.delete(force_drop=True)

    enqueue = event_services._enqueue_event
    event_services.event_enqueuer_set(None)
    subscription_collector_register(lambda *, invoice_ids: None)
    now = timezone.now()
    samples: dict[str, list[float]] = {"run": [], "copy": []}
    invoices_made: list[int] = []
    try:
        started = time.perf_counter()
        snapshot = None
        for index, schema in enumerate(schemas):
            Tenant(schema_name=schema, name=f"Bench billing {index}").save()
            with schema_context(schema):
                organization_profile_initialize(legal_name=f"Bench Billing {index} B.V.")
                today = tenant_date(now)
                start = today - timedelta(days=3)
                vat = TaxRate.objects.get(name="BTW 21%")
                with connection.cursor() as cursor:
                    mark = _max_id(cursor, "crm_company")
                    _copy(cursor, Company, (Company(name=f"Customer {n}", currency="EUR") for n in range(per_tenant)))
                    companies = _ids_after(cursor, "crm_company", mark)
                    mark = _max_id(cursor, "billing_subscription")
                    _copy(
                        cursor,
                        Subscription,
                        (
                            Subscription(
                                status="active",
                                name="Plan (monthly)",
                                currency="EUR",
                                frequency="monthly",
                                company_id=company_id,
                                start_date=start,
                                billing_anchor=start,
                                anchor_day=start.day,
                                next_billing_date=start,
                                collection_method="charge_automatically",
                                payment_method_ref=f"pm_{company_id}",
                                mrr=Decimal("149.00"),
                            )
                            for company_id in companies
                        ),
                    )
                    subscriptions = _ids_after(cursor, "billing_subscription", mark)
                    _copy(
                        cursor,
                        LineItem,
                        (
                            line
                            for pk in subscriptions
                            for line in (
                                LineItem(
                                    subscription_id=pk,
                                    position=0,
                                    name="Hosting",
                                    quantity=Decimal(2),
                                    unit_price=Decimal("49.50"),
                                    currency="EUR",
                                    tax_rate_id=vat.pk,
                                    frequency="monthly",
                                ),
                                LineItem(
                                    subscription_id=pk,
                                    position=1,
                                    name="Support",
                                    quantity=Decimal(1),
                                    unit_price=Decimal("50.00"),
                                    currency="EUR",
                                    frequency="monthly",
                                ),
                            )
                        ),
                    )
                    cursor.execute("ANALYZE")
                if snapshot is None:
                    preview = subscription_invoice_preview(subscription=Subscription.objects.get(pk=subscriptions[0]))
                    snapshot = preview.document
                    first_lines = LineItem.objects.filter(subscription_id=subscriptions[0]).order_by("position")
                    template_lines = list(first_lines)
        print(
            f"{TENANTS} tenants x {per_tenant:,} subscriptions (2 lines each) created with COPY "
            f"in {time.perf_counter() - started:.1f} s"
        )

        def make_due() -> None:
            for schema in schemas:
                with schema_context(schema), connection.cursor() as cursor:
                    cursor.execute("UPDATE billing_subscription SET next_billing_date = %s", [tenant_date(now)])
                    cursor.execute("VACUUM (ANALYZE) billing_subscription")

        def run() -> float:
            make_due()
            began = time.perf_counter()
            made = 0
            for schema in schemas:
                with schema_context(schema):
                    result = subscriptions_bill_due(now=now)
                    assert not result.failed, result.failed[:3]
                    made += result.invoices
            elapsed = time.perf_counter() - began
            assert made == per_tenant * TENANTS, made
            invoices_made.append(made)
            return elapsed

        def copy() -> float:
            marks = {}
            began = time.perf_counter()
            for schema in schemas:
                with schema_context(schema), connection.cursor() as cursor:
                    marks[schema] = _max_id(cursor, "billing_invoice")
                    company_ids = [row[0] for row in cursor.execute("SELECT id FROM crm_company ORDER BY id")]
                    _copy(
                        cursor,
                        Invoice,
                        (
                            Invoice(
                                status="draft",
                                currency="EUR",
                                language="en",
                                company_id=company_id,
                                period_start=now.date(),
                                period_end=now.date(),
                                payment_terms_days=0,
                                payment_methods=["card"],
                                issue_date=now.date(),
                                due_date=now.date(),
                                snapshot=snapshot,
                                total=Decimal(snapshot["total"]),
                                public_token=f"bench-{schema}-{company_id}-{time.monotonic_ns()}",
                                created_at=now,
                                updated_at=now,
                            )
                            for company_id in company_ids
                        ),
                    )
                    invoice_ids = _ids_after(cursor, "billing_invoice", marks[schema])
                    rows = []
                    for invoice_id in invoice_ids:
                        for line in template_lines:
                            copied = LineItem(**{f.attname: getattr(line, f.attname) for f in LineItem._meta.fields})
                            copied.pk, copied.subscription_id, copied.invoice_id = None, None, invoice_id
                            rows.append(copied)
                    _copy(cursor, LineItem, rows)
            elapsed = time.perf_counter() - began
            for schema in schemas:  # the baseline's rows go again (drafts may be deleted), not timed
                with schema_context(schema), connection.cursor() as cursor:
                    cursor.execute(
                        "DELETE FROM billing_lineitem WHERE invoice_id IN (SELECT id FROM billing_invoice "
                        "WHERE id > %s AND status = 'draft')",
                        [marks[schema]],
                    )
                    cursor.execute("DELETE FROM billing_invoice WHERE id > %s AND status = 'draft'", [marks[schema]])
            return elapsed

        for round_ in range(args.rounds):
            order = (("copy", copy), ("run", run)) if round_ % 2 == 0 else (("run", run), ("copy", copy))
            for name, fn in order:
                samples[name].append(fn())
                print(f"  round {round_ + 1}: {name:4} {samples[name][-1]:8.2f} s", flush=True)
    finally:
        event_services.event_enqueuer_set(enqueue)
        subscription_collector_register(None)
        connection.set_schema_to_public()
        for tenant in Tenant.objects.filter(schema_name__startswith=PREFIX):
            tenant.delete(force_drop=True)

    total = args.subscriptions - args.subscriptions % TENANTS
    run_median, copy_median = statistics.median(samples["run"]), statistics.median(samples["copy"])
    ratio = run_median / copy_median
    print(f"billing run: {total:,} due subscriptions in {TENANTS} tenants, {args.rounds} rounds, interleaved (median)")
    print(f"  run   {' / '.join(f'{v:7.2f}' for v in samples['run'])} s   median {run_median:.2f} s")
    print(f"  copy  {' / '.join(f'{v:7.2f}' for v in samples['copy'])} s   median {copy_median:.2f} s")
    print(f"  invoices per run: {invoices_made[0]:,} ({invoices_made[0] * 3:,} invoice and line rows)")
    print(f"  invoices per second: run {total / run_median:,.0f}, copy {total / copy_median:,.0f}")
    print(f"  run / copy: {ratio:.1f}x   goal <= 10x   {'met' if ratio <= 10 else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
