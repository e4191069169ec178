"""The embedded Postgres and Redis that `make run` and `make test` start on a machine without them."""

import os
import shutil
import socket
import subprocess
import sys

import psycopg
import pytest
import redis

from commerce_hub.embedded import cli
from commerce_hub.embedded.services import ensure_services, start_redis


def _redis(url: str) -> redis.Redis:
    return redis.Redis(unix_socket_path=url.removeprefix("redis+socket://"))


def test_embedded_services_start_reuse_and_stop(tmp_path):
    started = ensure_services(tmp_path, environ={})
    try:
        assert started.env["DATABASE_URL"].endswith("/commerce_hub")
        with psycopg.connect(started.env["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("commerce_hub",)
        assert _redis(started.env["REDIS_URL"]).ping()
        # A second start finds both running and leaves them to the first owner.
        again = ensure_services(tmp_path, environ={})
        assert again.env == started.env and again.stop_callbacks == []
    finally:
        started.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(started.env["DATABASE_URL"], connect_timeout=2)
    # Data survives a restart.
    restarted = ensure_services(tmp_path, environ={})
    try:
        with psycopg.connect(restarted.env["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        restarted.stop()


def test_set_urls_are_used_and_nothing_is_started(tmp_path):
    started = ensure_services(tmp_path, environ={"DATABASE_URL": "postgresql://x@db/y", "REDIS_URL": "redis://r"})
    assert started.env == {"DATABASE_URL": "postgresql://x@db/y", "REDIS_URL": "redis://r"}
    assert started.stop_callbacks == [] and not (tmp_path / "postgres").exists()


def test_redis_recovers_from_a_crashed_run(tmp_path):
    redis_dir = tmp_path / "redis"
    redis_dir.mkdir()
    # What a killed run leaves: a pid file naming a dead process and a socket file nobody listens on.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (redis_dir / "redis.pid").write_text(str(dead.pid))
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(redis_dir / "redis.sock"))
    stale.close()
    url, stop = start_redis(tmp_path)
    try:
        assert _redis(url).ping()
    finally:
        stop()


def test_postgres_recovers_from_a_stale_postmaster_pid(tmp_path):
    started = ensure_services(tmp_path, environ={"REDIS_URL": "redis://unused"})
    started.stop()
    pid_file = tmp_path / "postgres" / "postmaster.pid"
    lines = [
        "999999",
        str(tmp_path / "postgres"),
        "0",
        "5432",
        str(tmp_path / "postgres"),
        "",
        "0 0",
        "ready",
    ]
    pid_file.write_text("\n".join(lines) + "\n")
    os.chmod(pid_file, 0o600)
    if os.geteuid() == 0:  # a crashed server leaves the file owned by the user it ran as
        shutil.chown(pid_file, "pgserver", "pgserver")
    restarted = ensure_services(tmp_path, environ={"REDIS_URL": "redis://unused"})
    try:
        with psycopg.connect(restarted.env["DATABASE_URL"]) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        restarted.stop()


def test_make_run_says_clearly_when_the_port_is_taken(capsys):
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert cli.run(port) == 2
    err = capsys.readouterr().err
    assert f"Port {port} is already in use" in err and "make run PORT=" in err
