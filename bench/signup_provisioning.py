"""How long signup takes to provision a tenant, against the baseline of creating a schema and running every
migration in it for real, in the same run (cases interleaved, p50 and p95).

    make bench            (or: python -m commerce_hub.embedded exec -- python bench/signup_provisioning.py)

Uses its own database (<DATABASE_URL name>_bench), created and migrated here, so it never touches dev data.
"""

import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROUNDS = int(os.environ.get("BENCH_ROUNDS", 15))


def _bench_database_url() -> str:
    url = os.environ["DATABASE_URL"]
    parts = urlsplit(url)
    name = parts.path.lstrip("/") + "_bench"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def _drop_signup_tenants(tenant_model) -> None:
    # One tenant per transaction: dropping many schemas at once runs out of Postgres lock slots. The prefix is
    # this benchmark's own, so the CRM benchmark's tenants in the same database are left alone.
    for tenant in tenant_model.objects.filter(schema_name__startswith="t_signup_") | tenant_model.objects.filter(
        is_spare=True
    ):
        tenant.delete(force_drop=True)


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce_hub.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from commerce_hub.tenancy.models import Tenant
    from commerce_hub.tenancy.services import platform_bootstrap, spare_pool_fill, tenant_signup

    call_command("migrate_schemas", shared=True, verbosity=0)
    platform_bootstrap()
    call_command("migrate_schemas", verbosity=0)
    _drop_signup_tenants(Tenant)

    def timed(fn) -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    from django.test.utils import override_settings
    from django_tenants.clone import CloneSchema

    from commerce_hub.tenancy.provisioning import clone_script, schema_provision

    clone_script("tenant_template")  # built once per migration state (pg_dump of the template), not per signup
    cloned, migrated, clone_only, script_only = [], [], [], []
    # Interleaved (A B A B ...), so a busy moment on the machine slows every case alike.
    for i in range(ROUNDS):
        script_only.append(
            timed(lambda i=i: schema_provision(template="tenant_template", schema_name=f"t_signup_script_{i}"))
        )
        clone_only.append(timed(lambda i=i: CloneSchema().clone_schema("tenant_template", f"t_signup_raw_{i}")))
    with connection.cursor() as cursor:
        for i in range(ROUNDS):
            cursor.execute(f'DROP SCHEMA "t_signup_raw_{i}" CASCADE')
            cursor.execute(f'DROP SCHEMA "t_signup_script_{i}" CASCADE')

    def signup(label: str, i: int):
        return lambda: tenant_signup(
            company_name=f"Bench {i}",
            subdomain=f"signup-{label}-{i}",
            admin_name="Bench Admin",
            email=f"admin{i}@bench.example",
            password="bench-password-2026",
        )

    def migrate_from_scratch(i: int):
        # The baseline: CREATE SCHEMA and every migration run for real. (With TENANT_CREATION_FAKES_MIGRATIONS on,
        # django-tenants would clone the template and fake the migrations instead: not a baseline.)
        tenant = Tenant(schema_name=f"t_signup_migrate_{i}", name=f"Migrated {i}", is_template=True)
        with override_settings(TENANT_CREATION_FAKES_MIGRATIONS=False):
            tenant.save(verbosity=0)

    spared = []
    for i in range(ROUNDS):
        cloned.append(timed(signup("clone", i)))  # no spare waiting: the signup provisions a schema
        connection.set_schema_to_public()
        spare_pool_fill(size=1)  # the background refill, outside the timing
        spared.append(timed(signup("spare", i)))
        connection.set_schema_to_public()
        if i < min(ROUNDS, 5):
            migrated.append(timed(lambda i=i: migrate_from_scratch(i)))
            connection.set_schema_to_public()
    _drop_signup_tenants(Tenant)

    def p(values, q):
        return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]

    print(
        f"schema from the template script alone (provisioning), {len(script_only)} runs: "
        f"p50 {p(script_only, 50) * 1000:.0f} ms, p95 {p(script_only, 95) * 1000:.0f} ms"
    )
    print(
        f"schema by django-tenants clone_schema() alone (the old way), {len(clone_only)} runs: "
        f"p50 {p(clone_only, 50) * 1000:.0f} ms, p95 {p(clone_only, 95) * 1000:.0f} ms"
    )
    print(
        f"signup (schema from the template script + admin user + domain), {len(cloned)} runs: "
        f"p50 {p(cloned, 50) * 1000:.0f} ms, p95 {p(cloned, 95) * 1000:.0f} ms"
    )
    print(
        f"baseline (CREATE SCHEMA + every migration run for real), {len(migrated)} runs: "
        f"p50 {p(migrated, 50) * 1000:.0f} ms, p95 {p(migrated, 95) * 1000:.0f} ms"
    )
    print(
        f"signup (rename a spare + admin user), {len(spared)} runs: "
        f"p50 {p(spared, 50) * 1000:.0f} ms, p95 {p(spared, 95) * 1000:.0f} ms"
    )
    print(f"ratio template script / migrations (p50): {p(script_only, 50) / p(migrated, 50):.2f}")
    print(f"ratio clone_schema() / migrations (p50): {p(clone_only, 50) / p(migrated, 50):.2f}")
    print(f"ratio signup with a spare / migrations (p50): {p(spared, 50) / p(migrated, 50):.2f}")
    print(
        f"ratio whole signup / migrations (p50): {p(cloned, 50) / p(migrated, 50):.2f} "
        f"(signup also hashes the admin's password: PBKDF2, about 0.2 s here)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
