"""Thousands of tenants: provisioning and migrations that stay flat, against baselines measured in the same run.

    make bench      (or: python -m commerce_hub.embedded exec -- python bench/tenant_scale.py)

Uses its own database (<DATABASE_URL name>_scale), created, migrated, filled and DROPPED here. It:
  1. creates tenants the supported way (tenant_signup: schema, admin user, domain; the spare pool empty) up to 100,
     then the fast way (the same cached template script, run over a plain connection, and the tenant and domain
     rows inserted in bulk) up to BENCH_TENANTS (1,000);
  2. at 10, 100 and 1,000 existing tenants times, interleaved (restore, schema, signup, spare, restore, ...):
       restore - the baseline: the template's pg_dump (schema and data) with the schema renamed, run in one
                 transaction over a plain psycopg connection (what `psql -1 -f` does, minus the client)
       schema  - Tenant(...).save(): the schema as signup and the spare refill create it
       signup  - tenant_signup(): schema, admin user (PBKDF2 password hash included), organization, domain
       spare   - spare_pool_fill(size=+1): the background refill of the spare pool
  3. the no-op migration over every schema (migrate_tenants: graph + one query) against the baseline loop (one
     plain session that sets the search path and reads django_migrations in each schema), interleaved;
  4. one real migration (events 0004: a new table, three columns, a content type and its permissions), unapplied
     with its own backwards SQL in BENCH_MIGRATE_SCHEMAS (200) schemas, then applied by migrate_tenants in
     processes, each schema in its own transaction, while the other schemas are skipped as current.
"""

import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

TENANTS = int(os.environ.get("BENCH_TENANTS", 1000))
SUPPORTED = min(int(os.environ.get("BENCH_SUPPORTED", 100)), TENANTS)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))
PROCESSES = int(os.environ.get("BENCH_PROCESSES", 2))
# The real migration runs over this many schemas (all of them cost minutes on a shared 2-core machine); the figure
# is per schema.
MIGRATE_SCHEMAS = int(os.environ.get("BENCH_MIGRATE_SCHEMAS", 200))
LEAF = ("events", "0004_delivery_lease")


def _database_urls() -> tuple[str, str, str]:
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = parts.path.lstrip("/") + "_scale"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), admin, name


def _p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def _ms(values: list[float]) -> str:
    return f"p50 {_p(values, 50) * 1000:7.0f} ms, p95 {_p(values, 95) * 1000:7.0f} ms"


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    url, admin_url, db_name = _database_urls()
    os.environ["DATABASE_URL"] = url
    os.environ["TENANT_SPARE_POOL_SIZE"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce_hub.settings")
    try:
        return _run(url)
    finally:
        from django.db import connections

        connections.close_all()
        started = time.perf_counter()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        print(f"dropped database {db_name} (every tenant schema) in {time.perf_counter() - started:.1f} s")


def _run(url: str) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from commerce_hub.tenancy import provisioning, services
    from commerce_hub.tenancy import schema_migrations as sm
    from commerce_hub.tenancy.models import Tenant
    from commerce_hub.tenancy.services import platform_bootstrap, spare_pool_fill, tenant_signup

    services._spare_pool_refill = lambda: None  # the refill is timed on its own below, not sent to a worker
    started = time.perf_counter()
    call_command("migrate_schemas", shared=True, verbosity=0)
    platform_bootstrap(base_domain="scale.localhost")
    print(f"public schema and template migrated from scratch in {time.perf_counter() - started:.1f} s", flush=True)
    template = "tenant_template"
    plain = psycopg.connect(url, autocommit=True)

    # The baseline: the template's dump, schema and data, renamed.
    dump = _full_dump(provisioning, template)
    restore_counter = iter(range(10**6))

    def restore():
        name = f"r_restore_{next(restore_counter)}"
        sql = dump.replace("@@restore@@", f'"{name}"')
        with plain.transaction():
            plain.execute(sql)
        return name

    counter = iter(range(10**6))

    def signup():
        i = next(counter)
        tenant_signup(
            company_name=f"Scale {i} B.V.",
            subdomain=f"scale-{i}",
            admin_name="Scale Admin",
            email=f"admin{i}@scale.example",
            password="scale-bench-password-2026",
        )
        connection.set_schema_to_public()

    def schema_only():
        i = next(counter)
        Tenant(schema_name=f"t_schema_{i}", name=f"Schema {i}").save(verbosity=0)
        connection.set_schema_to_public()

    def spare():
        spare_pool_fill(size=1)

    def spare_drop():
        # Outside the timing: the next signup must find the pool empty, as the goal says.
        for tenant in Tenant.objects.filter(is_spare=True):
            tenant.delete(force_drop=True)

    def existing() -> int:
        return Tenant.objects.exclude(schema_name__in=["public", template]).count()

    figures = {}

    def measure(label: str) -> None:
        at = existing()
        samples = {"restore": [], "schema": [], "signup": [], "spare": []}
        restored = []
        for _ in range(ROUNDS):
            for name, fn in (("restore", restore), ("schema", schema_only), ("signup", signup), ("spare", spare)):
                t = time.perf_counter()
                result = fn()
                samples[name].append(time.perf_counter() - t)
                if name == "restore":
                    restored.append(result)
                if name == "spare":
                    spare_drop()
        for name in restored:
            plain.execute(f'DROP SCHEMA "{name}" CASCADE')
        figures[label] = samples
        print(f"at {at} existing tenants ({ROUNDS} rounds each, interleaved):", flush=True)
        for name, values in samples.items():
            print(f"  {name:8} {_ms(values)}")
        base = _p(samples["restore"], 50)
        print(
            f"  against restore (p50): schema {_p(samples['schema'], 50) / base:.2f}x, whole signup "
            f"{_p(samples['signup'], 50) / base:.2f}x, spare refill {_p(samples['spare'], 50) / base:.2f}x",
            flush=True,
        )

    provisioning.clone_script(template)  # once per migration state, as the first signup after a deploy does
    started = time.perf_counter()
    while existing() < 10:
        signup()
    measure("10")
    while existing() < SUPPORTED:
        signup()
    print(f"(signups up to {existing()} tenants took {time.perf_counter() - started:.0f} s in all)", flush=True)
    measure("100")

    # The fast way: the same script per schema over plain connections (two at once, commits not waiting for the
    # disk), tenant and domain rows in bulk per hundred.
    from concurrent.futures import ThreadPoolExecutor

    script = provisioning.clone_script(template)
    started = time.perf_counter()
    first = existing()
    fast = [psycopg.connect(url, autocommit=True) for _ in range(2)]
    for conn in fast:
        conn.execute("SET synchronous_commit = off")

    import queue

    idle = queue.Queue()
    for conn in fast:
        idle.put(conn)

    def create(schema):
        conn = idle.get()  # one schema per connection at a time
        try:
            with conn.transaction():
                conn.execute(script.replace(provisioning.SCHEMA_MARK, f'"{schema}"'))
        finally:
            idle.put(conn)

    names = [f"t_fast_{i}" for i in range(first, TENANTS)]
    with ThreadPoolExecutor(len(fast)) as pool:
        for start in range(0, len(names), 100):
            batch = names[start : start + 100]
            list(pool.map(create, batch))
            with plain.transaction():
                plain.execute(
                    "INSERT INTO public.tenancy_tenant (schema_name, name, created_at, is_template, is_spare, "
                    "email_verification_pending) SELECT s, s, now(), false, false, false FROM unnest(%s::text[]) s",
                    [batch],
                )
                plain.execute(
                    "INSERT INTO public.tenancy_domain (domain, is_primary, tenant_id) SELECT t.schema_name || "
                    "'.scale.localhost', true, t.id FROM public.tenancy_tenant t WHERE t.schema_name = ANY(%s)",
                    [batch],
                )
            print(f"  {existing()} tenants ({time.perf_counter() - started:.0f} s)", flush=True)
    for conn in fast:
        conn.close()
    print(f"fast way: {TENANTS - first} schemas in {time.perf_counter() - started:.0f} s", flush=True)
    measure("1000")

    at10, at1000 = figures["10"], figures["1000"]
    print(
        f"growth 10 -> {existing()} tenants (p50): schema {_p(at1000['schema'], 50) / _p(at10['schema'], 50):.2f}x, "
        f"signup {_p(at1000['signup'], 50) / _p(at10['signup'], 50):.2f}x, "
        f"spare {_p(at1000['spare'], 50) / _p(at10['spare'], 50):.2f}x, "
        f"restore {_p(at1000['restore'], 50) / _p(at10['restore'], 50):.2f}x (goal: signup <= 1.5x)",
        flush=True,
    )

    # No-op migration over every schema, against the plain loop.
    schemas = [
        s for (s,) in plain.execute("SELECT schema_name FROM public.tenancy_tenant WHERE schema_name <> 'public'")
    ]

    def baseline_loop():
        with psycopg.connect(url, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'SET search_path TO "{schema}"')
                conn.execute("SELECT app, name FROM django_migrations").fetchall()

    def noop():
        _run, status = sm.tenants_migrate(processes=PROCESSES)
        assert not status.queued, status.queued

    loop, ours = [], []
    for _ in range(ROUNDS):
        for samples, fn in ((loop, baseline_loop), (ours, noop)):
            t = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t)
    print(f"no-op migration over {len(schemas)} schemas ({ROUNDS} rounds each, interleaved):")
    print(f"  baseline loop (search_path + django_migrations per schema) {_ms(loop)}")
    print(f"  migrate_tenants (graph + one query)                        {_ms(ours)}")
    print(f"  ratio (p50): {_p(ours, 50) / _p(loop, 50):.2f}x (goal <= 5x)", flush=True)

    # One real migration: unapply events 0004 everywhere with its own backwards SQL, then migrate every schema.
    from io import StringIO

    out = StringIO()
    from django_tenants.utils import schema_context

    with schema_context(template):  # in public the router turns a tenant app's operations into no-ops
        call_command("sqlmigrate", *LEAF, backwards=True, stdout=out)
    backwards = out.getvalue()
    sample = [s for s in schemas if s != template][:MIGRATE_SCHEMAS]
    for schema in sample:
        with plain.transaction():
            plain.execute(f'SET LOCAL search_path TO "{schema}"')
            plain.execute(backwards.replace("BEGIN;", "").replace("COMMIT;", ""))
            plain.execute("DELETE FROM django_migrations WHERE app = %s AND name = %s", list(LEAF))
    results = []
    started = time.perf_counter()
    _run, status = sm.tenants_migrate(processes=PROCESSES, on_result=results.append)
    wall = time.perf_counter() - started
    per_schema = [r.seconds for r in results]
    print(
        f"real migration ({'.'.join(LEAF)}) over {len(status.done)} schemas ({len(status.failed)} failed), "
        f"{PROCESSES} processes: {wall:.1f} s wall, {wall / max(len(results), 1) * 1000:.0f} ms per schema; "
        f"each schema's own transaction {_ms(per_schema)}",
        flush=True,
    )
    for schema, error in list(status.failed.items())[:3]:
        print(f"  FAILED {schema}: {error}")
    plain.close()
    return 0


def _full_dump(provisioning, template: str) -> str:
    """The template's pg_dump (schema and data) with its name replaced by a marker, as an operator would restore it."""
    import re
    import subprocess

    from django.db import connection

    settings = connection.settings_dict
    binary = (provisioning._pg_dump_binary or provisioning._pg_dump_candidates())[0]
    args = [binary, "--no-owner", "--no-privileges", "--inserts", "--rows-per-insert=1000", "--schema", template]
    args += ["--dbname", settings["NAME"]]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings.get(key):
            args += [flag, str(settings[key])]
    env = {**os.environ, **({"PGPASSWORD": settings["PASSWORD"]} if settings.get("PASSWORD") else {})}
    text = subprocess.run(args, capture_output=True, text=True, env=env, check=True).stdout
    text = "\n".join(line for line in text.splitlines() if not line.startswith("\\"))
    # --inserts: rows as multi-row INSERTs, so the whole dump runs as one statement string (no COPY from the client).
    return re.sub(rf"(?<![\w.]){template}(?=[.;])", "@@restore@@", text)


if __name__ == "__main__":
    sys.exit(main())
