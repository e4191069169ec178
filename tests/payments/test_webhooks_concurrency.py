"""Stripe delivers at least once, in any order, several at a time: every event delivered three times, concurrently
and shuffled, ends exactly as the events applied once each in Stripe's order would, with one row per event. Real
commits, real threads (the 'live' tenant), the real SDK against the fake Stripe."""

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection
from django.test import Client
from django.urls import reverse
from django_tenants.utils import schema_context

from billing.selectors.receivables import invoice_figures
from payments.models import MethodKind, Payment, PaymentStatus, ProcessorKey, Refund, WebhookEvent, WebhookStatus
from payments.services.stripe_connect import stripe_endpoint_get
from payments.webhooks import processing
from payments.webhooks.processing import webhook_event_store, webhook_events_process
from tests.payments.fake_stripe import SIGNING_SECRET, fake_stripe, sign, stripe_connect  # noqa: F401
from tests.payments.paying import open_invoice, pay


def _in_threads(items, fn, workers=6):
    start = threading.Barrier(min(workers, len(items)))

    def run(item):
        try:
            start.wait(10)
            return fn(item)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, items))


def test_every_event_three_times_concurrently_and_shuffled_gives_the_in_order_result(
    django_db_setup,
    live_tenant,
    fake_stripe,  # noqa: F811
    eager_tasks,
):
    fake = fake_stripe
    stripe_connect(fake)
    fake.payment_method_add("pm_test_sepa_debit", type="sepa_debit", last4="3000", outcome="processing")
    invoice = open_invoice()
    payment = pay(invoice, method=MethodKind.SEPA_DEBIT, data={"payment_method": "pm_test_sepa_debit"})
    assert payment.status == PaymentStatus.PROCESSING
    intent_id = payment.processor_reference

    # Stripe's side: the debit was processing, settles, and is then refunded in part from Stripe's dashboard.
    t0 = fake.now()
    events = [fake.event("payment_intent.processing", fake.get(intent_id), created=t0)]
    events.append(fake.event("payment_intent.succeeded", fake.payment_settle(intent_id), created=t0 + 1))
    refund = fake.refund_outside(intent_id, 4200)
    events.append(fake.event("charge.refunded", fake.charge_of(intent_id), created=t0 + 2))
    events.append(fake.event("refund.updated", refund, created=t0 + 3))
    deliveries = events * 3
    # A shuffle whose first wave (one delivery per thread) holds no success: the refund is applied before Stripe's
    # success of the payment has even arrived.
    random.Random(7).shuffle(deliveries)
    assert "payment_intent.succeeded" not in {e["type"] for e in deliveries[:6]}
    url = reverse(
        "payments_public:stripe_webhook", args=[stripe_endpoint_get().public_id], urlconf="commerce_hub.urls_public"
    )

    def deliver(event):
        body = json.dumps(event)
        response = Client(HTTP_HOST="localhost").post(
            url, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body, SIGNING_SECRET)
        )
        return response.status_code

    assert _in_threads(deliveries, deliver) == [200] * 12

    connection.set_tenant(live_tenant)
    rows = list(WebhookEvent.objects.order_by("event_created").values_list("event_id", "status", "attempts"))
    assert rows == [(e["id"], WebhookStatus.PROCESSED, 1) for e in events]
    payment.refresh_from_db()
    assert (payment.status, payment.fee) == (PaymentStatus.SUCCEEDED, Decimal("3.88"))
    (booked,) = Refund.objects.all()
    assert (booked.payment_id, booked.amount, booked.processor_reference, booked.status) == (
        payment.pk,
        Decimal("42.00"),
        refund["id"],
        "succeeded",
    )
    figures = invoice_figures(invoice)
    assert (figures.paid, figures.due) == (Decimal("200.00"), Decimal("42.00"))
    assert Payment.objects.count() == 1
    assert len(fake.all("payment_intent")) == 1


def test_workers_draining_one_tenant_at_once_apply_each_event_once_and_in_order(
    django_db_setup,
    live_tenant,
    fake_stripe,  # noqa: F811
    monkeypatch,
):
    stripe_connect(fake_stripe)
    created = [datetime(2026, 3, 1, 12, 0, n, tzinfo=UTC) for n in range(30)]
    shuffled = list(enumerate(created))
    random.Random(7).shuffle(shuffled)
    for n, when in shuffled:
        webhook_event_store(
            processor=ProcessorKey.STRIPE, event_id=f"evt_{n:02d}", event_type="payout.paid", created=when, body="{}"
        )
    applied = []
    lock = threading.Lock()

    def translate(event, processor):
        with lock:
            applied.append(threading.current_thread().name)
        return []

    monkeypatch.setattr(processing, "stripe_event_translate", translate)
    order = []
    real_apply = processing._apply

    def apply(event, processor):
        with lock:
            order.append(event.event_id)
        real_apply(event, processor)

    monkeypatch.setattr(processing, "_apply", apply)

    def work(_n):
        with schema_context(live_tenant.schema_name):
            return webhook_events_process()

    handled = _in_threads(list(range(4)), work, workers=4)

    assert sum(handled) == 30
    assert order == [f"evt_{n:02d}" for n in range(30)]
    connection.set_tenant(live_tenant)
    assert set(WebhookEvent.objects.values_list("status", "attempts")) == {(WebhookStatus.IGNORED, 1)}
