"""Stripe's webhooks on the public site: each tenant's own endpoint, the signature checked before anything is trusted,
the raw event stored once per id, and processing in the tenant's schema, in Stripe's order."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing.selectors.receivables import invoice_figures
from commerce_hub.tenancy.models import InboundEndpoint
from payments.models import Payment, PaymentStatus, Refund, WebhookEvent, WebhookStatus
from payments.processors.stripe import StripeProcessor
from payments.services.stripe_connect import ENDPOINT_PURPOSE, stripe_endpoint_get, stripe_webhook_url
from payments.webhooks import processing
from payments.webhooks.processing import stripe_event_translate, webhook_events_process
from tests.payments.fake_stripe import (  # noqa: F401 - the fixture
    ROTATED_SECRET,
    SIGNING_SECRET,
    fake_stripe,
    sign,
    stripe_connect,
)
from tests.payments.paying import open_invoice, pay

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def stripe_alpha(tenant_alpha, fake_stripe):  # noqa: F811
    stripe_connect(fake_stripe)
    return fake_stripe


@pytest.fixture
def public():
    return Client(HTTP_HOST="localhost")


def _url(tenant=None) -> str:
    endpoint = InboundEndpoint.objects.get(tenant=tenant or connection.tenant, purpose=ENDPOINT_PURPOSE)
    return reverse("payments_public:stripe_webhook", args=[endpoint.public_id], urlconf="commerce_hub.urls_public")


def deliver(client, url, event, *, secret=SIGNING_SECRET, timestamp=None, header=None, body=None, tenant=None):
    """POST an event as Stripe does, and come back to the test's tenant (the request ran on the public site)."""
    tenant = tenant or connection.tenant
    body = json.dumps(event) if body is None else body
    headers = {}
    if header is not False:
        headers["HTTP_STRIPE_SIGNATURE"] = header or sign(body, secret, timestamp=timestamp)
    response = client.post(url, data=body, content_type="application/json", **headers)
    connection.set_tenant(tenant)
    return response


@pytest.fixture
def waiting(stripe_alpha):
    """A card payment waiting for 3-D Secure, which the buyer then completes at Stripe: Stripe has succeeded, our
    record has not heard yet."""
    invoice = open_invoice()
    payment = pay(invoice, data={"payment_method": "pm_card_authenticationRequired"})
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    intent = stripe_alpha.payment_settle(payment.processor_reference)
    return invoice, payment, stripe_alpha.event("payment_intent.succeeded", intent), stripe_alpha


def test_the_webhook_url_is_on_the_public_site_with_an_unguessable_id(stripe_alpha, settings):
    endpoint = stripe_endpoint_get()
    assert len(endpoint.public_id) >= 32  # 24 random bytes, URL-safe: 192 bits
    assert (
        stripe_webhook_url(endpoint) == f"http://localhost:{settings.SITE_PORT}/webhooks/stripe/{endpoint.public_id}/"
    )


def test_a_signed_event_is_stored_once_and_brings_the_payment_up_to_date(
    waiting, public, django_capture_on_commit_callbacks
):
    invoice, payment, event, _fake = waiting
    url = _url()
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(public, url, event)
    assert response.status_code == 200
    assert response.json() == {"received": True, "duplicate": False}

    stored = WebhookEvent.objects.get()
    assert (stored.event_id, stored.event_type, stored.status, stored.attempts) == (
        event["id"],
        "payment_intent.succeeded",
        WebhookStatus.PROCESSED,
        1,
    )
    assert json.loads(stored.body) == event  # the raw request, as it arrived
    assert int(stored.event_created.timestamp()) == event["created"]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert invoice_figures(invoice).paid == Decimal("242.00")

    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        again = deliver(public, url, event)
    assert (again.status_code, again.json()) == (200, {"received": True, "duplicate": True})
    assert enqueued == []  # a redelivery enqueues nothing
    assert WebhookEvent.objects.count() == 1
    assert WebhookEvent.objects.get().attempts == 1
    assert invoice_figures(invoice).paid == Decimal("242.00")


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "changed byte", "missing header", "320 s old", "320 s in the future", "no v1", "bad header"],
)
def test_a_request_that_fails_the_signature_check_is_refused_with_no_effect(
    waiting, public, django_capture_on_commit_callbacks, tamper
):
    invoice, payment, event, _fake = waiting
    body = json.dumps(event)
    now = int(timezone.now().timestamp())
    kwargs = {
        "wrong secret": {"secret": "whsec_someoneElsesSecret000000000"},
        "changed byte": {
            "header": sign(body, SIGNING_SECRET),
            "body": body.replace('"amount": 24200', '"amount": 24201'),
        },
        "missing header": {"header": False},
        # Twenty seconds past the five-minute tolerance: the second truncated from `now` and a loaded machine's
        # answer time cannot bring it back inside.
        "320 s old": {"timestamp": now - 320},
        "320 s in the future": {"timestamp": now + 320},
        "no v1": {"header": f"t={now},v0={sign(body, SIGNING_SECRET).split('v1=')[1]}"},
        "bad header": {"header": "garbage"},
    }[tamper]
    with django_capture_on_commit_callbacks(execute=True) as enqueued:
        response = deliver(public, _url(), event, **kwargs)
    assert response.status_code == 400
    assert enqueued == []
    assert WebhookEvent.objects.count() == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    assert invoice_figures(invoice).paid == 0


# Ten seconds inside the limit: the header carries whole seconds and a loaded machine takes a moment to answer, so
# 299 seconds old when signed can be just over 300 when checked.
@pytest.mark.parametrize("seconds", [-290, 290])
def test_a_timestamp_within_five_minutes_either_way_is_accepted(waiting, public, seconds):
    _invoice, _payment, event, _fake = waiting
    response = deliver(public, _url(), event, timestamp=int(timezone.now().timestamp()) + seconds)
    assert response.status_code == 200
    assert WebhookEvent.objects.count() == 1


def test_during_a_rotation_either_secret_is_accepted_and_a_removed_one_is_refused(waiting, public, admin_user):
    from payments.selectors.settings import payment_settings
    from payments.services.payment_settings import stripe_signing_secret_add, stripe_signing_secret_remove

    _invoice, _payment, event, _fake = waiting
    stripe_signing_secret_add(actor=admin_user, secret=ROTATED_SECRET)
    url = _url()
    assert deliver(public, url, event, secret=ROTATED_SECRET).status_code == 200
    # Stripe sends a v1 signature per secret while both are active; one matching is enough.
    second = dict(event, id="evt_second_one")
    body = json.dumps(second)
    old, new = sign(body, SIGNING_SECRET), sign(body, ROTATED_SECRET)
    both = old + ",v1=" + new.split("v1=")[1]
    assert deliver(public, url, second, header=both, body=body).status_code == 200
    assert WebhookEvent.objects.count() == 2

    old_id = payment_settings().stripe_webhook_secrets_encrypted[-1]["id"]  # newest first
    stripe_signing_secret_remove(actor=admin_user, secret_id=old_id)
    third = dict(event, id="evt_third_one")
    assert deliver(public, url, third, secret=ROTATED_SECRET).status_code == 200
    fourth = dict(event, id="evt_fourth_one")
    assert deliver(public, url, fourth, secret=SIGNING_SECRET).status_code == 400
    assert set(WebhookEvent.objects.values_list("event_id", flat=True)) == {event["id"], second["id"], third["id"]}


def test_an_unknown_endpoint_is_not_found_and_touches_nothing(waiting, public):
    _invoice, _payment, event, _fake = waiting
    for endpoint_id in ("x" * 32, "nope"):
        url = reverse("payments_public:stripe_webhook", args=[endpoint_id], urlconf="commerce_hub.urls_public")
        assert deliver(public, url, event).status_code == 404
    assert WebhookEvent.objects.count() == 0


def test_another_tenants_endpoint_never_touches_this_tenant(waiting, public, tenant_bravo, stripe_alpha):
    alpha = connection.tenant
    _invoice, payment, event, _fake = waiting
    bravo_secret = "whsec_bravosOwnSigningSecret0000000"
    with tenant_context(tenant_bravo):
        stripe_connect(stripe_alpha, signing_secrets=[bravo_secret])
        bravo_url = _url(tenant_bravo)
    assert bravo_url != _url(alpha)

    # Signed for alpha, sent to bravo's endpoint: bravo's secret refuses it.
    assert deliver(public, bravo_url, event, tenant=alpha).status_code == 400
    # Signed for bravo and sent to bravo's endpoint: stored in bravo's schema only.
    assert deliver(public, bravo_url, event, secret=bravo_secret, tenant=alpha).status_code == 200
    assert WebhookEvent.objects.count() == 0
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_ACTION
    with tenant_context(tenant_bravo):
        assert list(WebhookEvent.objects.values_list("event_id", flat=True)) == [event["id"]]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("not json at all", 400),
        ('{"object": "list", "data": []}', 400),
        ('{"object": "event", "id": "evt_1", "type": "x", "created": "yesterday", "data": {"object": {}}}', 400),
        ('{"object": "event", "id": "evt_1", "type": "x", "created": 1700000000, "data": []}', 400),
        ('{"object": "event", "id": "evt_1", "type": "x", "created": 99999999999999, "data": {"object": {}}}', 400),
        (
            '{"object": "event", "id": "'
            + "e" * 121
            + '", "type": "x", "created": 1700000000, "data": {"object": {}}}',
            400,
        ),
        ("[1, 2, 3]", 400),
        ("[" * 100_000 + "]" * 100_000, 400),
    ],
)
def test_a_signed_body_that_is_not_a_stripe_event_is_refused(stripe_alpha, public, body, status):
    response = deliver(public, _url(), None, body=body)
    assert response.status_code == status
    assert WebhookEvent.objects.count() == 0


def test_only_post_and_only_reasonable_bodies(stripe_alpha, public):
    from payments.webhooks import views

    tenant, url = connection.tenant, _url()
    assert public.get(url).status_code == 405
    connection.set_tenant(tenant)
    huge = "x" * (views.MAX_BODY_BYTES + 1)
    assert deliver(public, url, None, body=huge).status_code == 413
    now = int(timezone.now().timestamp())
    assert deliver(public, url, None, body=b"\xff\xfe{}", header=f"t={now},v1=00").status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_events_are_applied_in_stripes_order_whatever_order_they_arrived_in(
    stripe_alpha, public, monkeypatch, django_capture_on_commit_callbacks
):
    url = _url()
    base = int(timezone.now().timestamp())
    events = [
        stripe_alpha.event("payout.created", stripe_alpha.payout_create(1000), created=base + n) for n in range(4)
    ]
    applied = []
    monkeypatch.setattr(
        processing, "stripe_event_translate", lambda event, processor: applied.append(event["id"]) or []
    )
    for event in reversed(events):
        deliver(public, url, event)  # stored, processing not run (the callbacks are not executed)
    webhook_events_process()
    assert applied == [e["id"] for e in events]
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookStatus.IGNORED}
    assert webhook_events_process() == 0  # each once


def test_a_failed_event_is_retried_with_backoff_and_stays_visible(waiting, public, settings):
    invoice, payment, event, fake = waiting
    deliver(public, _url(), event)
    # Stripe cannot be reached while the event is applied.
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    assert webhook_events_process() == 1
    failed = WebhookEvent.objects.get()
    assert (failed.status, failed.attempts) == (WebhookStatus.FAILED, 1)
    assert failed.error.startswith("ProcessorUnreachable")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REQUIRES_ACTION

    # Not due again before its backoff; applied once it has passed and Stripe answers.
    assert webhook_events_process() == 0
    assert (processing.retry_delay(1), processing.retry_delay(30)) == (timedelta(minutes=1), timedelta(hours=6))
    settings.STRIPE_API_BASE = fake.url
    assert webhook_events_process(now=timezone.now() + timedelta(minutes=2)) == 1
    retried = WebhookEvent.objects.get()
    assert (retried.status, retried.attempts, retried.error) == (WebhookStatus.PROCESSED, 2, "")
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    assert invoice_figures(invoice).paid == Decimal("242.00")


def test_a_refund_from_stripes_dashboard_is_booked_once_through_either_event(waiting, public):
    invoice, payment, succeeded, fake = waiting
    refund = fake.refund_outside(payment.processor_reference, 4200)
    charge = fake.charge_of(payment.processor_reference)
    url = _url()
    # The refund arrives, and is applied, before the payment's own success: the payment is brought up to date
    # first, so the refund books against a recorded payment.
    for event in (
        fake.event("charge.refunded", charge, created=succeeded["created"] + 2),
        fake.event("refund.updated", refund, created=succeeded["created"] + 3),
        succeeded,
    ):
        deliver(public, url, event)
        webhook_events_process()

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED
    (booked,) = Refund.objects.filter(payment=payment)
    assert (booked.amount, booked.processor_reference, booked.status) == (Decimal("42.00"), refund["id"], "succeeded")
    figures = invoice_figures(invoice)
    assert (figures.paid, figures.due) == (Decimal("200.00"), Decimal("42.00"))
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {WebhookStatus.PROCESSED}


def test_an_event_about_a_payment_whose_answer_was_lost_tells_the_attempt_its_payment_intent(stripe_alpha, public):
    stripe_alpha.fault("POST /v1/payment_intents", "drop")
    invoice = open_invoice()
    payment = pay(invoice, data={"payment_method": "pm_card_visa"})
    assert (payment.status, payment.processor_reference) == (PaymentStatus.CREATED, None)
    (intent,) = stripe_alpha.all("payment_intent")
    deliver(public, _url(), stripe_alpha.event("payment_intent.succeeded", intent))
    webhook_events_process()
    payment.refresh_from_db()
    assert (payment.status, payment.processor_reference) == (PaymentStatus.SUCCEEDED, intent["id"])
    assert Payment.objects.filter(invoice=invoice).count() == 1


# --- Stripe's events in our terms ---------------------------------------------------------------------------------


def test_dispute_events_become_dispute_events_with_the_payment_intent(stripe_alpha):
    invoice = open_invoice()
    payment = pay(invoice, data={"payment_method": "pm_card_createDispute"})
    dispute = stripe_alpha.dispute_create(payment.processor_reference, due_in_days=7)
    processor = StripeProcessor.for_tenant()
    translated = stripe_event_translate(stripe_alpha.event("charge.dispute.created", dispute), processor)
    assert [(e.kind, e.reference) for e in translated] == [
        ("payment.succeeded", payment.processor_reference),
        ("dispute.opened", dispute["id"]),
    ]
    due = datetime.fromtimestamp(dispute["evidence_details"]["due_by"], tz=UTC)
    assert translated[1].data == {
        "payment_reference": payment.processor_reference,
        "amount": "242.00",
        "currency": "EUR",
        "status": "needs_response",
        "reason": "fraudulent",
        "evidence_due_by": due.isoformat(),
    }
    for stripe_status, ours, kind in [
        ("warning_under_review", "under_review", "charge.dispute.updated"),
        ("won", "won", "charge.dispute.closed"),
        ("lost", "lost", "charge.dispute.closed"),
        ("warning_closed", "won", "charge.dispute.closed"),
    ]:
        event = stripe_alpha.event(kind, stripe_alpha.update(dispute["id"], status=stripe_status))
        (_, translated_event) = stripe_event_translate(event, processor)
        assert (translated_event.kind, translated_event.data["status"]) == (
            {"charge.dispute.updated": "dispute.updated", "charge.dispute.closed": "dispute.closed"}[kind],
            ours,
        )


@pytest.mark.parametrize(
    ("event_type", "status", "kind"),
    [
        ("payout.created", "pending", "payout.created"),
        ("payout.updated", "in_transit", "payout.updated"),
        ("payout.paid", "paid", "payout.updated"),
        ("payout.failed", "failed", "payout.updated"),
        ("payout.canceled", "canceled", "payout.updated"),
    ],
)
def test_payout_events_carry_amount_status_and_arrival_date(stripe_alpha, event_type, status, kind):
    payout = stripe_alpha.payout_create(123456, "nok")
    payout = stripe_alpha.update(
        payout["id"], status=status, failure_message="Account closed" if status == "failed" else None
    )
    (translated,) = stripe_event_translate(stripe_alpha.event(event_type, payout), StripeProcessor.for_tenant())
    arrival = datetime.fromtimestamp(payout["arrival_date"], tz=UTC).date()
    assert (translated.kind, translated.reference) == (kind, payout["id"])
    assert translated.data == {
        "amount": "1234.56",
        "currency": "NOK",
        "status": status,
        "arrival_date": arrival.isoformat(),
        "failure_message": "Account closed" if status == "failed" else "",
    }


def test_a_refund_event_names_our_refund_by_its_key_and_the_balance_movement(stripe_alpha, admin_user):
    from payments.models import RefundMode
    from payments.services.refunds import refund_request

    invoice = open_invoice()
    payment = pay(invoice, data={"payment_method": "pm_card_visa"})
    ours = refund_request(payment=payment, amount="10.50", mode=RefundMode.REOPEN, actor=admin_user)
    (refund,) = stripe_alpha.all("refund")
    (refresh, translated) = stripe_event_translate(
        stripe_alpha.event("refund.updated", refund), StripeProcessor.for_tenant()
    )
    assert (refresh.kind, refresh.reference) == ("payment.succeeded", payment.processor_reference)
    assert translated.data == {
        "status": "succeeded",
        "amount": "10.50",
        "currency": "EUR",
        "payment_reference": payment.processor_reference,
        "balance_reference": refund["balance_transaction"],
        "failure_message": "",
        "idempotency_key": ours.processor_idempotency_key,
    }


def test_events_we_do_not_use_are_stored_and_ignored(stripe_alpha, public):
    event = stripe_alpha.event("customer.created", {"id": "cus_1", "object": "customer"})
    assert deliver(public, _url(), event).status_code == 200
    webhook_events_process()
    assert WebhookEvent.objects.get().status == WebhookStatus.IGNORED
