"""CRM index views at 10k and 1M rows, against raw SQL for the same rows, measured in the same run.

    make bench-crm     (or: python -m commerce_hub.embedded exec -- python bench/crm_index.py)

Fills two tenants in its own database (<DATABASE_URL name>_bench) with seed_demo --scale (COPY), once; later runs
reuse them. For contacts filtered by lifecycle stage and owner sorted by last modified, and deals filtered by stage
and owner, it times:
  view  - GET through Django's test client: filters, keyset query, 50 rows rendered in the shell
  query - the same ORM queryset the view runs (first page), evaluated
  raw   - hand-written SQL returning the same 51 rows with the same joins
and prints p50/p95 of each and the ratios.
"""

import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

SCALES = [int(s) for s in os.environ.get("BENCH_SCALES", "10000,1000000").split(",")]
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 40))


def _bench_database_url() -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = parts.path.lstrip("/") + "_bench"
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def _percentiles(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=100)
    return q[49] * 1000, q[94] * 1000


def _measure(schema, client, admin, url, object_type, raw_sql, raw_params) -> dict:
    from django.db import connection
    from django.http import QueryDict
    from django_tenants.utils import schema_context

    from commerce_hub.pagination import keyset_page
    from crm.index import index_query

    def view():
        response = client.get(url)
        assert response.status_code == 200, response.status_code
        connection.set_schema_to_public()

    def query():
        with schema_context(schema):
            index = index_query(object_type, QueryDict(url.split("?", 1)[1]), admin)
            keyset_page(index.queryset, ordering=index.ordering, cursor=None, size=50)

    with schema_context(schema):
        index = index_query(object_type, QueryDict(url.split("?", 1)[1]), admin)
        orm_sql, orm_params = index.queryset.order_by(*index.ordering)[:51].query.sql_with_params()

    # SQL runs on a plain psycopg connection whose search path is the tenant's, set once: the tenant cursor would
    # add a search-path switch to every query, which the raw baseline must not pay.
    plain = _plain_connection(schema)

    def sql_of(statement, params):
        def run():
            plain.execute(statement, params).fetchall()

        return run

    timings = (
        ("view", view),
        ("query", query),
        ("orm_sql", sql_of(orm_sql, orm_params)),
        ("raw", sql_of(raw_sql, raw_params)),
    )
    try:
        return _interleaved(timings)
    finally:
        plain.close()


def _plain_connection(schema: str) -> psycopg.Connection:
    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True, options=f"-c search_path={schema},public")


def _interleaved(timings) -> dict:
    """Each case once per round, in turn (A B A B ...), so a busy moment on the machine slows all of them alike."""
    for _ in range(3):
        for _key, fn in timings:
            fn()  # warm caches and the connection
    samples = {key: [] for key, _fn in timings}
    for _ in range(ROUNDS):
        for key, fn in timings:
            started = time.perf_counter()
            fn()
            samples[key].append(time.perf_counter() - started)
    return {key: _percentiles(values) for key, values in samples.items()}


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce_hub.settings")
    os.environ["DEBUG"] = "0"  # no query log; the plain static storage needs no collectstatic run
    os.environ["COMMERCE_HUB_TESTING"] = "1"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django_tenants.utils import schema_context

    from commerce_hub.accounts.models import User
    from commerce_hub.tenancy.models import Tenant
    from commerce_hub.tenancy.services import platform_bootstrap
    from crm.models import Contact, Deal

    setup_test_environment()
    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate_schemas", shared=True, verbosity=0)
    platform_bootstrap()
    call_command("migrate_schemas", verbosity=0)

    results = {}
    for scale in SCALES:
        subdomain = f"bench-{scale}"
        schema = "t_" + subdomain.replace("-", "_")
        if not Tenant.objects.filter(schema_name=schema).exists():
            call_command("seed_demo", "--subdomain", subdomain, "--no-progress")
        with schema_context(schema):
            have = Contact.objects.count()
        if have < scale:
            print(f"seeding {scale - have} rows of each into {schema} ...", flush=True)
            started = time.perf_counter()
            call_command("seed_demo", "--subdomain", subdomain, "--scale", str(scale - have))
            print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
        with schema_context(schema):
            admin = User.objects.get(role="admin", email__startswith="admin@")
            owner_id = User.objects.get(role="sales").pk
            stage_id = Deal.objects.values_list("stage_id", flat=True).first()
            counts = (Contact.objects.count(), Deal.objects.count())
        connection.set_schema_to_public()
        client = Client(HTTP_HOST=f"{subdomain}.localhost")
        with schema_context(schema):
            client.force_login(admin)
        connection.set_schema_to_public()
        cases = {
            "contacts": (
                f"/crm/contacts/?lifecycle_stage=customer&owner={owner_id}&sort=-updated_at",
                "contact",
                "SELECT c.*, u.full_name, co.name FROM crm_contact c "
                "LEFT JOIN accounts_user u ON u.id = c.owner_id LEFT JOIN crm_company co ON co.id = c.company_id "
                "WHERE c.lifecycle_stage = 'customer' AND c.owner_id = %s "
                "ORDER BY c.updated_at DESC, c.id DESC LIMIT 51",
                [owner_id],
            ),
            "deals": (
                f"/crm/deals/?stage={stage_id}&owner={owner_id}&sort=-updated_at",
                "deal",
                "SELECT d.*, u.full_name, co.name, s.name FROM crm_deal d "
                "LEFT JOIN accounts_user u ON u.id = d.owner_id LEFT JOIN crm_company co ON co.id = d.company_id "
                "JOIN crm_stage s ON s.id = d.stage_id WHERE d.stage_id = %s AND d.owner_id = %s "
                "ORDER BY d.updated_at DESC, d.id DESC LIMIT 51",
                [stage_id, owner_id],
            ),
        }
        for name, (url, object_type, sql, params) in cases.items():
            results[(scale, name)] = _measure(schema, client, admin, url, object_type, sql, params)
        print(f"\n{schema}: {counts[0]:,} contacts, {counts[1]:,} deals")
        for name in cases:
            r = results[(scale, name)]
            print(
                f"  {name:8} view p50 {r['view'][0]:5.1f} p95 {r['view'][1]:5.1f} ms | "
                f"query p50 {r['query'][0]:5.2f} p95 {r['query'][1]:5.2f} | "
                f"orm sql p50 {r['orm_sql'][0]:5.2f} p95 {r['orm_sql'][1]:5.2f} | "
                f"raw p50 {r['raw'][0]:5.2f} p95 {r['raw'][1]:5.2f} ms"
            )
            print(
                f"  {'':8} p95 against raw sql: orm sql {r['orm_sql'][1] / r['raw'][1]:.2f}x, "
                f"query {r['query'][1] / r['raw'][1]:.1f}x, view {r['view'][1] / r['raw'][1]:.1f}x"
            )
    if len(SCALES) == 2:
        small, large = SCALES
        print()
        for name in ("contacts", "deals"):
            a, b = results[(small, name)], results[(large, name)]
            print(
                f"  {name:8} {large:,} vs {small:,} rows, p95: view {b['view'][1] / a['view'][1]:.2f}x, "
                f"query {b['query'][1] / a['query'][1]:.2f}x, orm sql {b['orm_sql'][1] / a['orm_sql'][1]:.2f}x, "
                f"raw {b['raw'][1] / a['raw'][1]:.2f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
