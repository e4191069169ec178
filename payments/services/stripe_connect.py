"""A tenant's Stripe connection as the rest of the app needs it: the webhook endpoint that names the tenant on the
public site, the URL to paste into Stripe, the signing secrets that check what arrives there, and what the checkout
page needs to load Stripe.js."""

from __future__ import annotations

import secrets
import threading

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from commerce_hub.site_urls import tenant_url
from commerce_hub.tenancy.models import InboundEndpoint
from payments.models import PaymentSettings, ProcessorKey

ENDPOINT_PURPOSE = "payments.stripe"


def endpoint_public_id_new() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits: the URL is the only thing that names the tenant


def stripe_endpoint_get() -> InboundEndpoint | None:
    return InboundEndpoint.objects.filter(tenant_id=connection.tenant.pk, purpose=ENDPOINT_PURPOSE).first()


def stripe_endpoint_ensure() -> InboundEndpoint:
    """The current tenant's Stripe webhook endpoint, created the first time Stripe is connected. Its id never
    changes afterwards: Stripe keeps posting to the URL it was given."""
    endpoint = stripe_endpoint_get()
    if endpoint is not None:
        return endpoint
    try:
        with transaction.atomic():
            return InboundEndpoint.objects.create(
                tenant_id=connection.tenant.pk, purpose=ENDPOINT_PURPOSE, public_id=endpoint_public_id_new()
            )
    except IntegrityError:
        # Two admins saved at once: one row per tenant and purpose (the unique constraint), both get it.
        return InboundEndpoint.objects.get(tenant_id=connection.tenant.pk, purpose=ENDPOINT_PURPOSE)


def stripe_webhook_url(endpoint: InboundEndpoint) -> str:
    """The absolute URL on the public site (not the tenant's), where Stripe sends this tenant's events."""
    path = reverse("payments_public:stripe_webhook", args=[endpoint.public_id], urlconf=settings.PUBLIC_SCHEMA_URLCONF)
    return tenant_url(settings.BASE_DOMAIN, path)


# Decrypted signing secrets by their stored tokens: a webhook is checked on every delivery, and decrypting is the
# slow part of reading them. The token changes whenever a secret does, so a changed secret is never served stale.
_secrets_cache: dict[str, str] = {}
_secrets_lock = threading.Lock()


def stripe_signing_secrets(entries: list | None = None) -> list[str]:
    """The tenant's webhook signing secrets, newest first, from the stored entries (read from the settings row when
    not given); an unreadable one (the encryption key changed) is skipped, so it fails verification instead of
    the request."""
    from payments.crypto import SecretUnreadable, secret_decrypt

    if entries is None:
        entries = (
            PaymentSettings.objects.filter(pk=1).values_list("stripe_webhook_secrets_encrypted", flat=True).first()
        )
    found: list[str] = []
    for entry in entries or []:
        token = entry.get("token", "") if isinstance(entry, dict) else ""
        with _secrets_lock:
            plain = _secrets_cache.get(token)
        if plain is None:
            try:
                plain = secret_decrypt(token)
            except SecretUnreadable:
                continue
            with _secrets_lock:
                if len(_secrets_cache) > 10_000:
                    _secrets_cache.clear()
                _secrets_cache[token] = plain
        found.append(plain)
    return found


def stripe_checkout_config(payment_settings: PaymentSettings) -> dict | None:
    """What the checkout page's Stripe partial needs, when the tenant takes payments through Stripe."""
    if payment_settings.processor != ProcessorKey.STRIPE or not payment_settings.stripe_publishable_key:
        return None
    return {
        "publishable_key": payment_settings.stripe_publishable_key,
        "test_mode": payment_settings.stripe_publishable_key.startswith("pk_test_"),
    }
