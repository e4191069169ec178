"""Stripe's webhook endpoint under load, against a no-op view served by the same server, measured in the same run.

    python -m commerce_hub.embedded exec -- python bench/webhook_ingest.py

Creates a tenant of its own in <DATABASE_URL name>_bench, connects it to Stripe (a signing secret), and gives it the
scale of a busy shop a year on: BENCH_STORED (200,000) webhook events already stored, and a routing table of
BENCH_ENDPOINTS (10,000) other tenants' endpoints. Starts gunicorn on loopback (BENCH_WORKERS sync workers) with the
real middleware stack and two URLs on the public site:
  no-op   - a view that answers 200 without reading anything (the baseline: routing, middleware, HTTP)
  webhook - POST /webhooks/stripe/<endpoint id>/ with a correctly signed event, a new event id each time: endpoint
            lookup, signature check, the insert, the enqueue to the broker (Redis; no worker consumes it here)
BENCH_SENDERS threads post BENCH_REQUESTS requests per case, each sender alternating the two cases, so a busy
machine slows both alike. Prints p50/p95/p99 of each and the ratio of the p99s (goal: at most 3x), and checks that
every webhook was answered 200 and stored once. The tenant is dropped at the end.
"""

import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REQUESTS = int(os.environ.get("BENCH_REQUESTS", 2000))
SENDERS = int(os.environ.get("BENCH_SENDERS", 2))
WORKERS = int(os.environ.get("BENCH_WORKERS", 2))
STORED = int(os.environ.get("BENCH_STORED", 200_000))
ENDPOINTS = int(os.environ.get("BENCH_ENDPOINTS", 10_000))
SCHEMA = "t_bench_webhooks"
SIGNING_SECRET = "whsec_benchSigningSecret0000000000000"
NOOP_PATH = "/bench/noop/"


# --- the server side: gunicorn imports this module and serves `application` ---------------------------------------


def _server_application():
    import django

    django.setup()
    from django.http import HttpResponse
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    import commerce_hub.urls_public as public_urls
    from commerce_hub.wsgi import application

    @csrf_exempt
    def noop(request):
        return HttpResponse("ok", content_type="text/plain")

    # The public URLconf is resolved on the first request, so the baseline is added next to the webhook URL.
    public_urls.urlpatterns.append(path(NOOP_PATH.strip("/") + "/", noop))
    return application


if os.environ.get("BENCH_WEBHOOK_SERVER") == "1":
    application = _server_application()


# --- the bench ----------------------------------------------------------------------------------------------------


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    q = statistics.quantiles(samples, n=100)
    return q[49] * 1000, q[94] * 1000, q[98] * 1000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _event(n: int) -> dict:
    """A payment_intent.succeeded event of Stripe's size and shape (about 3 kB)."""
    intent_id = f"pi_{secrets.token_hex(12)}"
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": intent_id,
                "object": "payment_intent",
                "amount": 24200 + n,
                "amount_capturable": 0,
                "amount_details": {"tip": {}},
                "amount_received": 24200 + n,
                "capture_method": "automatic",
                "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
                "confirmation_method": "automatic",
                "created": int(time.time()) - 5,
                "currency": "eur",
                "description": f"Invoice INV-{100000 + n}",
                "latest_charge": f"ch_{secrets.token_hex(12)}",
                "livemode": False,
                "metadata": {"payment": f"pay_{secrets.token_urlsafe(16)}", "invoice": f"INV-{100000 + n}"},
                "payment_method": f"pm_{secrets.token_hex(12)}",
                "payment_method_options": {
                    "card": {"installments": None, "network": None, "request_three_d_secure": "automatic"}
                },
                "payment_method_types": ["card"],
                "status": "succeeded",
                **{
                    key: None
                    for key in (
                        "application",
                        "canceled_at",
                        "cancellation_reason",
                        "customer",
                        "last_payment_error",
                        "next_action",
                        "on_behalf_of",
                        "processing",
                        "receipt_email",
                        "review",
                        "setup_future_usage",
                        "shipping",
                        "statement_descriptor",
                        "statement_descriptor_suffix",
                        "transfer_data",
                        "transfer_group",
                        "application_fee_amount",
                        "automatic_payment_methods",
                    )
                },
            }
        },
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": f"req_{secrets.token_hex(7)}", "idempotency_key": secrets.token_hex(16)},
        "type": "payment_intent.succeeded",
    }


def _signed(body: str) -> str:
    import hashlib
    import hmac

    timestamp = int(time.time())
    signature = hmac.new(SIGNING_SECRET.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"


def _seed(tenant_id: int) -> None:
    """The routing table's other tenants (rows only, no schemas) and the tenant's stored events, by COPY."""
    from django.db import connection

    now = datetime.now(UTC)
    with connection.cursor() as cursor:
        cursor.execute("SET search_path TO public")
        with cursor.cursor.copy(
            "COPY tenancy_tenant (schema_name, name, created_at, is_template, is_spare) FROM STDIN"
        ) as copy:
            for n in range(ENDPOINTS):
                copy.write_row((f"t_bench_wh_other_{n}", f"Other {n}", now, False, False))
        cursor.execute(
            "INSERT INTO tenancy_inboundendpoint (public_id, tenant_id, purpose, created_at) "
            "SELECT md5(random()::text) || md5(random()::text), id, 'payments.stripe', now() FROM tenancy_tenant "
            "WHERE schema_name LIKE 't_bench_wh_other_%'"
        )
        cursor.execute(f'SET search_path TO "{SCHEMA}", public')
        body = json.dumps(_event(0))
        with cursor.cursor.copy(
            "COPY payments_webhookevent (processor, event_id, event_type, event_created, body, status, attempts, "
            "error, received_at, processed_at) FROM STDIN"
        ) as copy:
            start = now - timedelta(days=365)
            for n in range(STORED):
                when = start + timedelta(seconds=n * 365 * 86400 // max(STORED, 1))
                copy.write_row(
                    (
                        "stripe",
                        f"evt_seed{n:012d}",
                        "payment_intent.succeeded",
                        when,
                        body,
                        "processed",
                        1,
                        "",
                        when,
                        when,
                    )
                )
        for table in ("payments_webhookevent",):
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("SET search_path TO public")
        cursor.execute("VACUUM (ANALYZE) tenancy_inboundendpoint")
        cursor.execute("VACUUM (ANALYZE) tenancy_tenant")


def _drop_others() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM tenancy_inboundendpoint WHERE tenant_id IN "
            "(SELECT id FROM tenancy_tenant WHERE schema_name LIKE 't_bench_wh_other_%')"
        )
        cursor.execute("DELETE FROM tenancy_tenant WHERE schema_name LIKE 't_bench_wh_other_%'")


def _measure(port: int, webhook_path: str) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"no-op": [], "webhook": []}
    statuses: dict[str, list[int]] = {"no-op": [], "webhook": []}
    lock = threading.Lock()
    per_sender = REQUESTS // SENDERS
    start = threading.Barrier(SENDERS)

    def send(path: str, body: str, signature: str) -> tuple[int, float]:
        headers = {"Host": "localhost", "Content-Type": "application/json", "Stripe-Signature": signature}
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", path, body=body.encode(), headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        return response.status, time.perf_counter() - started

    def sender(index: int) -> None:
        start.wait(30)
        for n in range(per_sender):
            body = json.dumps(_event(index * per_sender + n))
            signature = _signed(body)
            order = (("webhook", webhook_path), ("no-op", NOOP_PATH))
            for case, path in order if n % 2 else reversed(order):
                status, elapsed = send(path, body, signature)
                with lock:
                    samples[case].append(elapsed)
                    statuses[case].append(status)

    # Warm both paths in every worker (imports, connections, the broker's channel).
    for n in range(WORKERS * 20):
        body = json.dumps(_event(10_000_000 + n))
        send(webhook_path, body, _signed(body))
        send(NOOP_PATH, body, "")
    threads = [threading.Thread(target=sender, args=(i,)) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for case, codes in statuses.items():
        bad = [code for code in codes if code != 200]
        assert not bad, f"{case}: {len(bad)} answers were not 200 ({sorted(set(bad))})"
    return samples


def main() -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from bench.crm_index import _bench_database_url

    os.environ["DATABASE_URL"] = _bench_database_url()
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "commerce_hub.settings")
    os.environ["DEBUG"] = "0"
    os.environ["COMMERCE_HUB_TESTING"] = "1"
    # The enqueued processing messages go to queues of this run's own, dropped at the end.
    os.environ["CELERY_QUEUE_PREFIX"] = f"bench-{os.getpid()}-"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.urls import reverse
    from django_tenants.utils import tenant_context

    from commerce_hub.celery import app as celery_app
    from commerce_hub.tenancy.models import Tenant
    from commerce_hub.tenancy.services import platform_bootstrap
    from payments.models import WebhookEvent
    from payments.services.payment_settings import stripe_keys_update, stripe_signing_secret_add
    from payments.services.stripe_connect import stripe_endpoint_get

    call_command("migrate_schemas", shared=True, verbosity=0)
    platform_bootstrap()
    call_command("migrate_schemas", verbosity=0)
    for stale in Tenant.objects.filter(schema_name=SCHEMA):
        stale.delete(force_drop=True)
    _drop_others()
    tenant = Tenant(schema_name=SCHEMA, name="Bench webhooks")
    tenant.save()
    server = None
    try:
        with tenant_context(tenant):
            stripe_keys_update(
                actor=None, publishable_key="pk_test_bench000000000000", secret_key="sk_test_bench000000000000"
            )
            stripe_signing_secret_add(actor=None, secret=SIGNING_SECRET)
            endpoint = stripe_endpoint_get()
        print(f"seeding {STORED:,} stored events and {ENDPOINTS:,} other endpoints ...", flush=True)
        started = time.perf_counter()
        _seed(tenant.pk)
        print(f"  seeded in {time.perf_counter() - started:.0f} s", flush=True)
        with tenant_context(tenant):
            before = WebhookEvent.objects.count()
        webhook_path = reverse(
            "payments_public:stripe_webhook", args=[endpoint.public_id], urlconf="commerce_hub.urls_public"
        )
        connection.close()

        port = _free_port()
        env = {**os.environ, "BENCH_WEBHOOK_SERVER": "1", "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "bench.webhook_ingest:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(WORKERS),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=str(Path(__file__).resolve().parents[1]),
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        samples = _measure(port, webhook_path)
        with tenant_context(tenant):
            stored = WebhookEvent.objects.count() - before
        expected = len(samples["webhook"]) + WORKERS * 20
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        connection.set_schema_to_public()
        tenant.delete(force_drop=True)
        _drop_others()
        with celery_app.connection_for_write() as conn:
            client = conn.default_channel.client
            prefix = os.environ["CELERY_QUEUE_PREFIX"]
            stale = [*client.scan_iter(match=f"{prefix}*"), *client.scan_iter(match=f"_kombu.binding.{prefix}*")]
            if stale:
                client.delete(*stale)
        print(f"dropped {SCHEMA}")

    noop, hook = _percentiles(samples["no-op"]), _percentiles(samples["webhook"])
    print(
        f"\nwebhook ingest on gunicorn ({WORKERS} sync workers, loopback), {SENDERS} concurrent senders, "
        f"{len(samples['webhook']):,} requests per case, interleaved; {STORED:,} events stored before, "
        f"{ENDPOINTS + 1:,} endpoints"
    )
    for name, (p50, p95, p99) in (("no-op view", noop), ("webhook", hook)):
        print(f"  {name:11} p50 {p50:6.2f} ms   p95 {p95:6.2f} ms   p99 {p99:6.2f} ms")
    ratio = hook[2] / noop[2]
    print(f"  p99 webhook / no-op: {ratio:.2f}x   goal <= 3x   {'met' if ratio <= 3 else 'NOT MET'}")
    print(f"  p50 webhook / no-op: {hook[0] / noop[0]:.2f}x")
    print(f"  events stored: {stored:,} of {expected:,} sent (one row per event)")
    assert stored == expected
    return 0


if __name__ == "__main__":
    sys.exit(main())
