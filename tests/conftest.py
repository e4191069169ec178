"""Test tenants are created once per session by cloning the template schema; each test runs in a transaction
that is rolled back, so tests never pay for a schema or migrations of their own.

Tenants: "alpha" (where most tests run), "bravo" (the other tenant of the cross-tenant matrix) and "live" (data
committed for a real Celery worker or the browser, cleaned after each such test).
"""

import os
import uuid
from importlib import import_module

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context

from commerce_hub.accounts.models import Role, User
from commerce_hub.tenancy.models import Domain, Tenant
from commerce_hub.tenancy.services import platform_bootstrap

PASSWORD = "correct-horse-battery-9"

# One test database per test process, so two suites on one machine (or one Postgres) never drop each other's.
# Likewise a cache key prefix per process, for every thread (a live server's threads have caches of their own).
settings.CACHES["default"]["KEY_PREFIX"] = f"test{os.getpid()}"
settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = (
    f"test_{settings.DATABASES['default']['NAME']}_{os.getpid()}"
)
TENANTS = {"alpha": "Alpha Handel B.V.", "bravo": "Bravo Fjord AS", "live": "Live Test AS"}


def _tenant_create(subdomain: str, name: str) -> Tenant:
    from commerce_hub.organization.services import organization_profile_initialize

    tenant = Tenant(schema_name=f"t_{subdomain}", name=name)
    tenant.save()
    Domain.objects.create(domain=f"{subdomain}.localhost", tenant=tenant, is_primary=True)
    with schema_context(tenant.schema_name):
        organization_profile_initialize(legal_name=name)
    return tenant


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """One test database and three tenants for the whole session.

    Set up here rather than by pytest-django's default, which only creates the database when a collected test
    asks for `db`; the worker and browser tests use committed data without that fixture.
    """
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        db_cfg = setup_databases(verbosity=0, interactive=False)
        platform_bootstrap(base_domain="localhost")
        for subdomain, name in TENANTS.items():
            _tenant_create(subdomain, name)
        connection.set_schema_to_public()
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        # A worker or live-server thread may still hold a connection; the database cannot be dropped under it.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        teardown_databases(db_cfg, verbosity=0)


@pytest.fixture(autouse=True)
def _public_schema_after_test():
    yield
    connection.set_schema_to_public()


@pytest.fixture
def tenant_alpha(db):
    tenant = Tenant.objects.get(schema_name="t_alpha")
    connection.set_tenant(tenant)
    return tenant


@pytest.fixture
def tenant_bravo(db):
    return Tenant.objects.get(schema_name="t_bravo")


def user_make(role: str = Role.ADMIN, email: str | None = None, **extra) -> User:
    return User.objects.create_user(
        email=email or f"{role}-{uuid.uuid4().hex[:8]}@example.com",
        password=PASSWORD,
        full_name=extra.pop("full_name", f"{role.title()} Person"),
        role=role,
        **extra,
    )


@pytest.fixture
def admin_user(tenant_alpha):
    return user_make(Role.ADMIN, full_name="Anna Admin")


@pytest.fixture
def client_alpha(tenant_alpha):
    return Client(HTTP_HOST="alpha.localhost")


@pytest.fixture
def admin_client(client_alpha, admin_user):
    client_alpha.force_login(admin_user)
    return client_alpha


@pytest.fixture(autouse=True)
def fresh_cache():
    """A key prefix of this test's own: cached values and counters (login throttling) start empty for every
    test, without flushing a Redis that other processes may share."""
    original = cache.key_prefix
    cache.key_prefix = f"test-{uuid.uuid4().hex}"
    # Rate limits too, in every thread (a live server's threads keep their own cache prefix).
    original_namespace = settings.RATE_LIMIT_NAMESPACE
    settings.RATE_LIMIT_NAMESPACE = cache.key_prefix
    yield cache
    settings.RATE_LIMIT_NAMESPACE = original_namespace
    cache.key_prefix = original


@pytest.fixture
def live_tenant(django_db_blocker):
    """The 'live' tenant with autocommit: what a test writes here is visible to other processes.

    Every tenant table is emptied afterwards (TRUNCATE on the schema's own tables only, never on public).
    """
    with django_db_blocker.unblock():
        tenant = Tenant.objects.get(schema_name="t_live")
        connection.set_tenant(tenant)
        try:
            yield tenant
        finally:
            connection.set_schema_to_public()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename NOT IN "
                    "('django_migrations', 'django_content_type', 'auth_permission', "
                    "'organization_organizationprofile')",
                    [tenant.schema_name],
                )
                tables = [f'"{tenant.schema_name}"."{row[0]}"' for row in cursor.fetchall()]
                if tables:
                    cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
            # Put back what every tenant starts with (the default pipeline and lifecycle stages).
            with schema_context(tenant.schema_name):
                import_module("crm.migrations.0003_default_stages").create_defaults(django_apps, None)
                import_module("billing.migrations.0002_default_tax_rates").create_rates(django_apps, None)
                import_module("billing.migrations.0005_invoice_guards_and_defaults").create_defaults(django_apps, None)
            # And forget what this tenant cached, in any thread ("<schema>:<prefix>:..." keys).
            client = cache._cache.get_client(write=True)
            stale = list(client.scan_iter(match=f"{tenant.schema_name}:*", count=1000))
            if stale:
                client.delete(*stale)


@pytest.fixture
def eager_tasks(settings):
    """Run tasks in-process when they are enqueued (after commit), with email kept in django.core.mail.outbox."""
    from celery.result import _set_task_join_will_block

    from commerce_hub.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False
    # Each eager task sets and restores a process-wide "inside a task" flag; eager tasks running at once in several
    # threads (concurrency tests, the live server) can restore it in the wrong order and leave it set, after which
    # result.get() in a later test refuses to run. It is never set outside a task here.
    _set_task_join_will_block(False)
