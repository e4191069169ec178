"""The Celery app. Every task runs in the tenant schema that was active when it was enqueued.

tenant-schemas-celery records the schema in the message headers and switches to it before the task runs. On top of
that, a tenant task refuses to be enqueued from, or to run in, the public schema: a task that silently ran in public
would read and write the wrong tables.
"""

import os

from celery import signals
from django.db import connection, transaction
from tenant_schemas_celery.app import CeleryApp
from tenant_schemas_celery.task import TenantTask

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce_hub.settings")


class TenantRequiredError(RuntimeError):
    pass


class CommerceHubTask(TenantTask):
    abstract = True
    # Platform tasks that iterate over tenants themselves set this to True.
    runs_in_public = False

    def apply_async(self, args=None, kwargs=None, **options):
        headers = options.get("headers") or {}
        schema = headers.get("_schema_name") or connection.schema_name
        if not self.runs_in_public and schema == "public":
            raise TenantRequiredError(
                f"Task {self.name} was enqueued outside a tenant. Enqueue it inside a request or "
                f"django_tenants.utils.tenant_context(tenant)."
            )
        return super().apply_async(args, kwargs, **options)

    def delay_on_commit(self, *args, **kwargs):
        return self.apply_async_on_commit(args, kwargs)

    def apply_async_on_commit(self, args=None, kwargs=None, **options):
        # The schema is captured now, not at commit time: by then the caller may have left the tenant's context.
        headers = {**(options.pop("headers", None) or {}), "_schema_name": connection.schema_name}
        if not self.runs_in_public and headers["_schema_name"] == "public":
            raise TenantRequiredError(f"Task {self.name} was enqueued outside a tenant.")
        # robust: the change has committed; a broker outage must not turn it into an error page. Lost enqueues of
        # domain events are picked up by the beat sweep; emails log the failure.
        transaction.on_commit(lambda: self.apply_async(args, kwargs, headers=headers, **options), robust=True)

    def __call__(self, *args, **kwargs):
        if not self.runs_in_public and connection.schema_name == "public":
            raise TenantRequiredError(f"Task {self.name} has no tenant schema and will not run in public.")
        return super().__call__(*args, **kwargs)


class PublicTask(CommerceHubTask):
    """For platform tasks that fan out over tenants; they run in public on purpose."""

    abstract = True
    runs_in_public = True


def enqueue_for_every_tenant(task) -> int:
    """One message of `task` per tenant, each carrying its schema, so the workers handle tenants in parallel.
    For the platform tasks (PublicTask) that fan a periodic job out over the tenants."""
    from django.db import connection
    from django_tenants.utils import get_tenant_model, tenant_context

    tenants = get_tenant_model().objects.exclude(schema_name="public").filter(is_template=False, is_spare=False)
    count = 0
    for tenant in tenants.iterator():
        with tenant_context(tenant):
            task.delay()
        count += 1
    connection.set_schema_to_public()
    return count


app = CeleryApp("commerce_hub", task_cls=CommerceHubTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
# One queue per workload, so a slow sync never holds up an email. A prefix keeps a test run's queues apart
# from a `make run` worker that shares the same Redis. Apps register their queues, routes and periodic jobs from
# their AppConfig (commerce_hub.registry); the platform registers its own in CommerceHubConfig.ready.
QUEUE_PREFIX = os.environ.get("CELERY_QUEUE_PREFIX", "")
app.conf.task_default_queue = QUEUE_PREFIX + "default"


def queue_names() -> tuple[str, ...]:
    """Every registered queue, without the prefix. Needs the apps loaded (django.setup())."""
    from commerce_hub.registry import registered_queues

    return tuple(spec.name for spec in registered_queues())


def route_for_task(name, args, kwargs, options, task=None, **kw):
    """The queue a task goes to, read from the registry when the task is sent (the apps are loaded by then).
    The longest matching pattern wins, so "payments.webhooks.*" beats "payments.*" whichever app registered first."""
    from fnmatch import fnmatchcase

    from commerce_hub.registry import registered_queues

    matches = [
        (len(pattern), spec.name)
        for spec in registered_queues()
        for pattern in spec.routes
        if fnmatchcase(name, pattern)
    ]
    return {"queue": QUEUE_PREFIX + max(matches)[1]} if matches else None


app.conf.task_routes = (route_for_task,)


@signals.import_modules.connect(sender=app)
def _configure_from_registry(**_kwargs):
    # A worker or beat process: Celery's Django fixup has run django.setup() (its receiver was connected first, when
    # the app was created), so every AppConfig has registered. The worker consumes every registered queue unless -Q
    # narrows it; beat runs every registered job.
    from kombu import Exchange, Queue

    from commerce_hub.registry import registered_beat

    # Each queue on its own direct exchange and routing key, as Celery creates a missing queue: without them every
    # queue would bind to the default exchange and key, and each message would land in all of them.
    names = [QUEUE_PREFIX + name for name in queue_names()]
    app.conf.task_queues = [Queue(name, Exchange(name, type="direct"), routing_key=name) for name in names]
    app.conf.beat_schedule = registered_beat()


def __getattr__(name):
    # `QUEUES` stays importable for callers that started from the old constant; it is computed from the registry.
    if name == "QUEUES":
        return queue_names()
    raise AttributeError(name)


app.autodiscover_tasks()


@signals.worker_process_init.connect
def _fresh_connections(**_kwargs):
    # Forked pool processes must not share the parent's database socket.
    from django.db import connections

    for conn in connections.all():
        conn.close()
