"""A real Celery worker process, on the real Redis broker, against the test database."""

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django_tenants.utils import schema_context

from commerce_hub.celery import QUEUE_PREFIX, QUEUES, TenantRequiredError, app
from commerce_hub.tasks import worker_heartbeat

BASE_DIR = Path(__file__).resolve().parents[2]
WORKER_MAIL = BASE_DIR / ".data" / f"test-worker-mail-{os.getpid()}"


def _database_url() -> str:
    s = connection.settings_dict
    host = quote(s["HOST"], safe="") if s["HOST"].startswith("/") else s["HOST"]
    port = f":{s['PORT']}" if s["PORT"] else ""
    password = f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else ""
    return f"postgresql://{s['USER']}{password}@{host}{port}/{s['NAME']}"


@pytest.fixture(scope="module")
def celery_worker(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "CELERY_QUEUE_PREFIX": QUEUE_PREFIX,
            "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
            # Emails the worker sends land as files in a folder of this run, where tests can read them.
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(WORKER_MAIL),
        }
    queues = ",".join(QUEUE_PREFIX + q for q in QUEUES)
    log = open(BASE_DIR / ".data" / "test-celery-worker.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "commerce_hub",
            "worker",
            "-Q",
            queues,
            "--pool",
            "solo",
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
            "-n",
            f"test-{uuid.uuid4().hex[:6]}@%h",
        ],
        env=env,
        cwd=BASE_DIR,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    shutil.rmtree(WORKER_MAIL, ignore_errors=True)


def test_worker_runs_each_task_in_the_schema_that_enqueued_it(celery_worker, django_db_blocker):
    with django_db_blocker.unblock():
        answers = {}
        for schema in ("t_alpha", "t_bravo"):
            with schema_context(schema):
                token = uuid.uuid4().hex
                # The first call waits for the worker to boot.
                answers[schema] = (token, worker_heartbeat.delay(token).get(timeout=60))
        assert answers["t_alpha"][1] == {"schema": "t_alpha", "organization": "Alpha Handel B.V."}
        assert answers["t_bravo"][1] == {"schema": "t_bravo", "organization": "Bravo Fjord AS"}
        # The worker's cache writes landed under each tenant's own key (the worker uses the configured prefix).
        cache.key_prefix = settings.CACHES["default"]["KEY_PREFIX"]
        with schema_context("t_alpha"):
            assert cache.get(f"worker-heartbeat:{answers['t_alpha'][0]}")["schema"] == "t_alpha"
            assert cache.get(f"worker-heartbeat:{answers['t_bravo'][0]}") is None


def test_task_without_tenant_fails_at_enqueue_and_in_the_worker(celery_worker, django_db_blocker):
    with django_db_blocker.unblock():
        connection.set_schema_to_public()
        with pytest.raises(TenantRequiredError, match="enqueued outside a tenant"):
            worker_heartbeat.delay("x")
        # Sent by name, around the guard: the worker refuses to run it in public.
        result = app.send_task(
            "commerce_hub.worker_heartbeat",
            args=["y"],
            queue=QUEUE_PREFIX + "default",
            headers={"_schema_name": "public"},
        )
        with pytest.raises(TenantRequiredError, match="will not run in public"):
            result.get(timeout=60)
