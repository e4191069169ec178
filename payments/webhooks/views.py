"""The webhook endpoint on the public site: POST /webhooks/stripe/<endpoint id>/.

Fast and with no effect until the request is proven: the endpoint id names the tenant (unknown: 404), the tenant's
signing secrets check the Stripe-Signature header (refused: 400), and only then is the body parsed, stored once per
event id and processing enqueued after the commit. Nothing is applied here; the answer is 200 as soon as the event
is safely stored, so Stripe does not retry an event we have.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime

from django.db import connection
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import tenant_context

from commerce_hub.tenancy.models import InboundEndpoint, Tenant
from payments.models import PaymentSettings, ProcessorKey
from payments.services.stripe_connect import ENDPOINT_PURPOSE, stripe_signing_secrets
from payments.webhooks.processing import webhook_event_store
from payments.webhooks.tasks import process
from payments.webhooks.verification import SignatureRefused, stripe_signature_verify

logger = logging.getLogger(__name__)

# Stripe's events are a few kilobytes; a megabyte leaves room for the largest objects and refuses abuse.
MAX_BODY_BYTES = 1024 * 1024


@csrf_exempt
@require_POST
def stripe_webhook(request, endpoint_id: str):
    tenant = _endpoint_tenant(endpoint_id)
    if tenant is None:
        return HttpResponseNotFound("unknown endpoint", content_type="text/plain")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        return HttpResponse("body too large", status=413, content_type="text/plain")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return HttpResponse("body too large", status=413, content_type="text/plain")
    # One cursor in the tenant's schema for the secrets and the insert: each cursor costs a round trip of its own.
    with tenant_context(tenant), connection.cursor() as cursor:
        try:
            text = stripe_signature_verify(
                payload=body,
                header=request.headers.get("Stripe-Signature"),
                secrets=stripe_signing_secrets(_stored_secrets(cursor)),
            )
        except SignatureRefused as refused:
            logger.info("stripe webhook refused for %s: %s", tenant.schema_name, refused)
            return HttpResponseBadRequest("signature refused", content_type="text/plain")
        event = _event_fields(text)
        if event is None:
            return HttpResponseBadRequest("not a Stripe event", content_type="text/plain")
        event_id, event_type, created = event
        stored = webhook_event_store(
            processor=ProcessorKey.STRIPE,
            event_id=event_id,
            event_type=event_type,
            created=created,
            body=text,
            cursor=cursor,
        )
        if stored:
            process.delay_on_commit()  # in this tenant's schema, captured now
    return JsonResponse({"received": True, "duplicate": not stored})


# Endpoint id -> tenant, for a minute: an endpoint always names the same tenant (ids are never reused), so the
# routing table is read once a minute per endpoint rather than on every delivery.
ENDPOINT_CACHE_SECONDS = 60
_endpoints: dict[str, tuple[float, Tenant]] = {}
_endpoints_lock = threading.Lock()


def _endpoint_tenant(endpoint_id: str) -> Tenant | None:
    now = time.monotonic()
    with _endpoints_lock:
        cached = _endpoints.get(endpoint_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    endpoint = (
        InboundEndpoint.objects.select_related("tenant").filter(public_id=endpoint_id, purpose=ENDPOINT_PURPOSE).first()
    )
    if endpoint is None:
        return None  # not cached: an id that is not ours costs its query, and fills no memory
    with _endpoints_lock:
        if len(_endpoints) > 10_000:
            _endpoints.clear()
        _endpoints[endpoint_id] = (now + ENDPOINT_CACHE_SECONDS, endpoint.tenant)
    return endpoint.tenant


def _stored_secrets(cursor) -> list:
    quote = connection.ops.quote_name
    cursor.execute(
        f"SELECT {quote('stripe_webhook_secrets_encrypted')} FROM {quote(PaymentSettings._meta.db_table)} "  # noqa: S608
        "WHERE id = 1"
    )
    row = cursor.fetchone()
    value = row[0] if row else None
    if isinstance(value, (str, bytes)):
        value = json.loads(value)
    return value if isinstance(value, list) else []


def _event_fields(text: str) -> tuple[str, str, datetime] | None:
    """(id, type, created) of a signed body that is a Stripe event; None for anything else."""
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return None
    if not isinstance(payload, dict) or payload.get("object") != "event":
        return None
    event_id, event_type, created = payload.get("id"), payload.get("type"), payload.get("created")
    if not (isinstance(event_id, str) and 0 < len(event_id) <= 120 and isinstance(event_type, str) and event_type):
        return None
    # Stripe's clock, in seconds; anything outside this century is not one of its events (and not a datetime).
    if not isinstance(created, int) or isinstance(created, bool) or not 946684800 <= created < 4102444800:
        return None
    if not isinstance(payload.get("data"), dict) or not isinstance(payload["data"].get("object"), dict):
        return None
    return event_id, event_type, datetime.fromtimestamp(created, tz=UTC)
