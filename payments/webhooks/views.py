"""The webhook endpoint on the public site: POST /webhooks/stripe/<endpoint id>/.

Fast and with no effect until the request is proven: the endpoint id names the tenant (unknown: 404), the tenant's
signing secrets check the Stripe-Signature header (refused: 400), and only then is the body parsed, stored once per
event id and processing enqueued after the commit. Nothing is applied here; the answer is 200 as soon as the event
is safely stored, so Stripe does not retry an event we have.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django_tenants.utils import tenant_context

from commerce_hub.tenancy.models import InboundEndpoint
from payments.models import ProcessorKey
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
    endpoint = (
        InboundEndpoint.objects.select_related("tenant").filter(public_id=endpoint_id, purpose=ENDPOINT_PURPOSE).first()
    )
    if endpoint is None:
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
    with tenant_context(endpoint.tenant):
        try:
            text = stripe_signature_verify(
                payload=body, header=request.headers.get("Stripe-Signature"), secrets=stripe_signing_secrets()
            )
        except SignatureRefused as refused:
            logger.info("stripe webhook refused for %s: %s", endpoint.tenant.schema_name, refused)
            return HttpResponseBadRequest("signature refused", content_type="text/plain")
        event = _event_fields(text)
        if event is None:
            return HttpResponseBadRequest("not a Stripe event", content_type="text/plain")
        event_id, event_type, created = event
        stored = webhook_event_store(
            processor=ProcessorKey.STRIPE, event_id=event_id, event_type=event_type, created=created, body=text
        )
        if stored:
            process.delay_on_commit()  # in this tenant's schema, captured now
    return JsonResponse({"received": True, "duplicate": not stored})


def _event_fields(text: str) -> tuple[str, str, datetime] | None:
    """(id, type, created) of a signed body that is a Stripe event; None for anything else."""
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("object") != "event":
        return None
    event_id, event_type, created = payload.get("id"), payload.get("type"), payload.get("created")
    if not (isinstance(event_id, str) and 0 < len(event_id) <= 120 and isinstance(event_type, str) and event_type):
        return None
    if not isinstance(created, int) or isinstance(created, bool) or not 0 < created < 2**40:
        return None
    if not isinstance(payload.get("data"), dict) or not isinstance(payload["data"].get("object"), dict):
        return None
    return event_id, event_type, datetime.fromtimestamp(created, tz=UTC)
