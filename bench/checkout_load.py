"""The buyer's checkout page under concurrent load on loopback, against a static file served by the same server,
measured in the same run.

    python -m commerce_hub.embedded exec -- python bench/checkout_load.py

Uses its own database (<DATABASE_URL name>_bench) and a tenant of its own (bench-checkout, seeded with the demo data
once and kept for later runs), adds an open EUR invoice of three lines that accepts cards, bank debits and transfers,
and starts gunicorn on a free loopback port as deploy/entrypoint.sh runs it in production (BENCH_WORKERS, 3, sync
workers, their heartbeat files in /dev/shm; BENCH_THREADS > 1 switches to gthread workers; production settings, except
that static files come from the finders, so no collectstatic run is needed). Then it alternates, BENCH_ROUNDS
times and in turn first, between
  static    GET /static/css/checkout.css: WhiteNoise's answer for a file, behind the same tenant middleware (the
            baseline of the goal)
  login     GET /login/: a small page Django renders with no data (a form and its CSRF token), for context
  checkout  GET /payments/pay/<token>/: the whole checkout page (the invoice and its balance from the ledger, the
            methods offered and their forms, the invoice's lines and totals), in the invoice's language; always the
            same invoice, so its rendered lines and totals come from the cache after the first view (a buyer's first
            view of an invoice renders them, about a tenth of the page's time for these three lines)
each for BENCH_SECONDS with BENCH_CONNECTIONS connections (wrk when installed, else a threaded client; sync workers
close a connection after each answer, so every request opens one, as it does in production),
and prints requests per second (the median over rounds), the checkout's latency and the ratio (goal: >= 0.3x).
"""

import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))
SECONDS = int(os.environ.get("BENCH_SECONDS", 5))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", 16))
# deploy/entrypoint.sh: `gunicorn --workers 3 --worker-tmp-dir /dev/shm`, gunicorn's default sync workers.
WORKERS = int(os.environ.get("BENCH_WORKERS", 3))
THREADS = int(os.environ.get("BENCH_THREADS", 1))
SUBDOMAIN = "bench-checkout"
SCHEMA = "t_bench_checkout"
HOST = f"{SUBDOMAIN}.localhost"
STATIC_PATH = "/static/css/checkout.css"
BUYER = "Bench Buyer B.V."
BASE_DIR = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _invoice_token() -> str:
    """An open invoice to pay, made the way the app makes one (finalized through billing's services)."""
    from decimal import Decimal

    from billing.documents import invoice_settings_get
    from billing.models import Invoice, LineItem, TaxRate
    from billing.services.invoices import invoice_create, invoice_finalize
    from crm.models import Company, Contact

    existing = Invoice.objects.filter(status="open", company__name=BUYER).first()
    if existing is not None:
        return existing.public_token
    settings = invoice_settings_get()
    settings.payment_methods = ["card", "bank_debit", "bank_transfer"]
    settings.save(update_fields=["payment_methods"])
    company = Company.objects.filter(name=BUYER).order_by("pk").first() or Company.objects.create(
        name=BUYER, address_line1="Dam 1", postal_code="1012 JS", city="Amsterdam"
    )
    contact, _created = Contact.objects.get_or_create(
        email="bo@bench.example", defaults={"first_name": "Bo", "last_name": "Bench", "company": company}
    )
    invoice = invoice_create(actor=None, company=company, contacts=[contact], currency="EUR")
    rate = TaxRate.objects.filter(rate__gt=0).order_by("-rate").first()
    lines = [("Consulting", "12", "95.00"), ("Licence", "3", "249.00"), ("Travel", "1", "80.50")]
    for position, (name, quantity, price) in enumerate(lines):
        LineItem.objects.create(
            invoice=invoice,
            position=position,
            name=name,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            currency="EUR",
            tax_rate=rate,
        )
    return invoice_finalize(invoice=invoice, actor=None).public_token


def _wrk(port: int, path: str) -> dict:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{SECONDS}s", "--latency", "-H", f"Host: {HOST}"]
        + [f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    if "Non-2xx or 3xx responses" in out:
        raise SystemExit(f"{path} answered errors under load:\n{out}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(latency.get("50", "0ms")),
        "p99": _ms(latency.get("99", "0ms")),
    }


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _threaded(port: int, path: str) -> dict:
    """wrk's measurement with plain threads: each keeps one connection alive and sends requests back to back."""
    deadline = time.perf_counter() + SECONDS
    samples: list[float] = []
    lock = threading.Lock()

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            conn.request("GET", path, headers={"Host": HOST})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status} under load")
            mine.append(time.perf_counter() - started)
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=run) for _ in range(CONNECTIONS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    q = statistics.quantiles(samples, n=100)
    return {"rps": len(samples) / (time.perf_counter() - started), "p50": q[49] * 1000, "p99": q[98] * 1000}


def _serve(env: dict, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "commerce_hub.wsgi:application", "-b", f"127.0.0.1:{port}"]
    command += ["-w", str(WORKERS), "--worker-tmp-dir", "/dev/shm", "--log-level", "warning"]
    if THREADS > 1:
        command += ["--threads", str(THREADS), "-k", "gthread"]
    server = subprocess.Popen(command, env=env, cwd=BASE_DIR)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", STATIC_PATH, headers={"Host": HOST})
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit("the server did not start")


def main() -> int:
    sys.path.insert(0, str(BASE_DIR))
    from bench.crm_index import _bench_database_url

    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce_hub.settings")
    os.environ["DEBUG"] = "0"  # no query log, no template reloading: as in production
    os.environ["COMMERCE_HUB_TESTING"] = "1"  # static files from the finders: no collectstatic run
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django_tenants.utils import schema_context

    from commerce_hub.tenancy.models import Tenant
    from commerce_hub.tenancy.services import platform_bootstrap

    call_command("migrate_schemas", shared=True, verbosity=0)
    platform_bootstrap()
    call_command("migrate_schemas", verbosity=0)
    if not Tenant.objects.filter(schema_name=SCHEMA).exists():
        print(f"seeding {SCHEMA} with the demo data ...", flush=True)
        call_command("seed_demo", "--subdomain", SUBDOMAIN, "--no-progress")
    with schema_context(SCHEMA):
        token = _invoice_token()
    connection.close()
    checkout_path = f"/payments/pay/{token}/"

    port = _free_port()
    server = _serve({**os.environ}, port)
    measure = _wrk if subprocess.run(["which", "wrk"], capture_output=True).returncode == 0 else _threaded
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", checkout_path, headers={"Host": HOST})
        page = conn.getresponse()
        body = page.read().decode()
        assert page.status == 200 and "Pay €" in body and "TEST MODE" in body, f"checkout answered {page.status}"
        paths = {"static": STATIC_PATH, "login": "/login/", "checkout": checkout_path}
        results: dict[str, list[dict]] = {name: [] for name in paths}
        measure(port, checkout_path)  # warm every worker: templates, the tenant's settings, connections
        for n in range(ROUNDS):
            order = list(paths)
            for name in order[n % 3 :] + order[: n % 3]:  # each page goes first in turn
                results[name].append(measure(port, paths[name]))
    finally:
        server.terminate()
        server.wait(timeout=30)

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in results[name])

    static_rps, checkout_rps = median("static", "rps"), median("checkout", "rps")
    tool = "wrk" if measure is _wrk else "threaded client"
    workers = f"{WORKERS} sync workers" if THREADS == 1 else f"{WORKERS} workers x {THREADS} threads"
    print(
        f"\ncheckout page on loopback: gunicorn {workers}, {CONNECTIONS} connections, "
        f"{ROUNDS} interleaved rounds of {SECONDS} s each ({tool}), page {len(body.encode()) // 1024} KB"
    )
    for name in ("static", "login", "checkout"):
        rounds = " ".join(f"{r['rps']:.0f}" for r in results[name])
        print(
            f"  {name:8} {median(name, 'rps'):8.0f} req/s (rounds: {rounds})  "
            f"p50 {median(name, 'p50'):6.1f} ms  p99 {median(name, 'p99'):6.1f} ms"
        )
    ratio = checkout_rps / static_rps
    print(f"  checkout / static throughput: {ratio:.2f}x (goal >= 0.3x: {'met' if ratio >= 0.3 else 'NOT met'})")
    print(f"  checkout / login page throughput: {checkout_rps / median('login', 'rps'):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
