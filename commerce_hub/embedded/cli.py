"""`make run` and `make test`: start what is missing (Postgres, Redis), then the app or the test suite.

python -m commerce_hub.embedded run   [--port 8000]
python -m commerce_hub.embedded test  [pytest args...]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from commerce_hub.embedded.services import ServiceError, ensure_services, port_is_free

BASE_DIR = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("COMMERCE_HUB_DATA_DIR", BASE_DIR / ".data")).resolve()
PYTHON = sys.executable


def _secret_key() -> str:
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def _write_services_env(env: dict[str, str]) -> Path:
    # Lets `python manage.py shell` in another terminal find the embedded services while they run.
    path = DATA_DIR / "services.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    return path


def _manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run([PYTHON, str(BASE_DIR / "manage.py"), *args], env=env, cwd=BASE_DIR)
    if result.returncode != 0:
        raise SystemExit(f"`manage.py {' '.join(args)}` failed (exit {result.returncode}); see the output above.")


def _terminate(processes: list[subprocess.Popen]) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in processes:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            proc.kill()


def _raise_keyboard_interrupt(*_args):
    raise KeyboardInterrupt


def run(port: int) -> int:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if not port_is_free("0.0.0.0", port):  # noqa: S104 - the dev server listens on every interface
        print(
            f"Port {port} is already in use (another `make run`?). Stop that process, or run `make run PORT=8001`.",
            file=sys.stderr,
        )
        return 2
    started = ensure_services(DATA_DIR)
    env_file = _write_services_env(started.env)
    env = {
        **os.environ,
        **started.env,
        "DEBUG": "1",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _secret_key(),
        "COMMERCE_HUB_SITE_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    processes: list[subprocess.Popen] = []
    try:
        print("Migrating the public schema, the template and every tenant ...")
        _manage(env, "migrate_schemas", "--shared", "-v", "0")
        _manage(env, "bootstrap_platform")
        _manage(env, "migrate_schemas", "-v", "0")
        _manage(env, "seed_demo", "--if-missing")
        celery = [PYTHON, "-m", "celery", "-A", "commerce_hub"]
        commands = [
            [PYTHON, "manage.py", "runserver", f"0.0.0.0:{port}"],
            # Consumes every queue the apps register (commerce_hub.registry).
            [*celery, "worker", "--concurrency", "2", "--loglevel", "INFO"],
            [*celery, "beat", "--loglevel", "INFO", "--schedule", str(DATA_DIR / "celerybeat-schedule")],
        ]
        for command in commands:
            # Own session: Ctrl-C reaches only this process, which then stops the children in order.
            processes.append(subprocess.Popen(command, env=env, cwd=BASE_DIR, start_new_session=True))
        from commerce_hub.demo import DEMO_PASSWORD, DEMO_USERS

        time.sleep(2)
        print("\n" + "=" * 72)
        print(f"  Commerce Hub demo:   http://demo.localhost:{port}/")
        print(f"  Sign in as:          {DEMO_USERS[0][0]}  /  {DEMO_PASSWORD}")
        print(f"  Other roles:         {', '.join(u[0] for u in DEMO_USERS[1:])} (same password)")
        print(f"  Public site, signup: http://localhost:{port}/")
        print(f"  Emails are written to {DATA_DIR / 'mail'}")
        print("  Stop everything with Ctrl-C.")
        print("=" * 72 + "\n", flush=True)
        # Installed explicitly: a shell that starts us in the background leaves SIGINT ignored.
        signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        while all(proc.poll() is None for proc in processes):
            time.sleep(0.5)
        failed = next(proc for proc in processes if proc.poll() is not None)
        print(
            f"A process stopped ({' '.join(map(str, failed.args[:4]))} exit {failed.returncode}); stopping the rest.",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("\nStopping the web server, worker and beat ...")
        return 0
    finally:
        _terminate(processes)
        started.stop()
        env_file.unlink(missing_ok=True)


def test(pytest_args: list[str]) -> int:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    started = ensure_services(DATA_DIR)
    env = {
        **os.environ,
        **started.env,
        "COMMERCE_HUB_TESTING": "1",
        "DEBUG": "0",
        "CELERY_QUEUE_PREFIX": f"test{os.getpid()}-",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "test-secret-key-not-for-production",
    }
    try:
        return subprocess.call([PYTHON, "-m", "pytest", *pytest_args], env=env, cwd=BASE_DIR)
    except KeyboardInterrupt:
        return 130
    finally:
        started.stop()


def exec_command(command: list[str]) -> int:
    """Run any command (a benchmark, a manage.py command) with the services it needs."""
    if command and command[0] == "--":
        command = command[1:]
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    started = ensure_services(DATA_DIR)
    env = {**os.environ, **started.env, "SECRET_KEY": os.environ.get("SECRET_KEY") or _secret_key()}
    try:
        return subprocess.call(command, env=env, cwd=BASE_DIR)
    finally:
        started.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commerce_hub.embedded")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="demo tenant, web server, worker and beat")
    run_parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 8000)))
    sub.add_parser("test", help="the whole test suite (extra arguments go to pytest)")
    sub.add_parser("exec", help="run a command with the services it needs: exec -- python bench/x.py")
    args, rest = parser.parse_known_args(argv)
    try:
        if args.command == "run":
            return run(args.port)
        if args.command == "exec":
            return exec_command(rest)
        return test(rest)
    except ServiceError as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
