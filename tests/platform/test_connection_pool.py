"""Connections: the psycopg pool is on by default, and 50 parallel requests against the running development server
(`manage.py runserver`, as `make run` starts it) all get an answer while the server holds no more than its pool."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]


def _pool_settings(**env) -> str:
    code = (
        "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'commerce_hub.settings'); django.setup(); "
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d.get('OPTIONS', {}).get('pool'), d['CONN_MAX_AGE'])"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("DB_POOL")}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env={**base, **env}, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_pool_is_on_by_default_in_make_run_and_production_with_sizes_from_the_environment():
    assert _pool_settings(DEBUG="1", COMMERCE_HUB_TESTING="0") == "{'min_size': 2, 'max_size': 10, 'timeout': 10} 0"
    assert _pool_settings(DEBUG="0", COMMERCE_HUB_TESTING="0", SECRET_KEY="x") == (
        "{'min_size': 2, 'max_size': 10, 'timeout': 10} 0"
    )
    sized = _pool_settings(DEBUG="1", COMMERCE_HUB_TESTING="0", DB_POOL_MAX_SIZE="4", DB_POOL_MIN_SIZE="1")
    assert sized == "{'min_size': 1, 'max_size': 4, 'timeout': 10} 0"
    assert _pool_settings(DEBUG="1", COMMERCE_HUB_TESTING="0", DB_POOL_MAX_SIZE="0") == "None 60"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _backends(database: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
        )
        return cursor.fetchone()[0]


def test_fifty_parallel_requests_to_the_development_server_get_answers_within_its_pool(live_tenant):
    import http.client

    database = connection.settings_dict["NAME"]
    url = settings.DATABASE_URL.rsplit("/", 1)[0] + f"/{database}"
    port = _free_port()
    pool_size = 4  # small, so 50 requests must queue for connections
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "1",
        "COMMERCE_HUB_TESTING": "0",
        "DB_POOL_MAX_SIZE": str(pool_size),
        "DB_POOL_TIMEOUT": "30",
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "the development server did not start"
                time.sleep(0.3)
        before = _backends(database)
        results: list = []
        peak = [0]
        barrier = threading.Barrier(50)

        def one():
            barrier.wait()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", "/login/", headers={"Host": f"live.localhost:{port}"})
                response = conn.getresponse()
                response.read()
                results.append(response.status)
            except OSError as exc:
                results.append(type(exc).__name__)

        threads = [threading.Thread(target=one) for _ in range(50)]
        for thread in threads:
            thread.start()
        while any(thread.is_alive() for thread in threads):
            peak[0] = max(peak[0], _backends(database) - before)
            time.sleep(0.05)
        assert results.count(200) == 50, results
        assert peak[0] <= pool_size
    finally:
        server.terminate()
        server.wait(10)
