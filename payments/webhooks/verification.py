"""Stripe's webhook signature: `Stripe-Signature: t=<unix time>,v1=<hex>,v1=<hex>...`, each v1 an HMAC-SHA256 of
"<t>.<raw body>" under the endpoint's signing secret. The SDK's WebhookSignature checks the signatures; the time is
checked here in both directions (the SDK only refuses old timestamps), so a captured request cannot be replayed
later and a forged future timestamp buys no time either."""

from __future__ import annotations

import time

import stripe

# Stripe's default tolerance: a request signed more than five minutes before or after now is refused.
TOLERANCE_SECONDS = 300


class SignatureRefused(Exception):
    pass


def _timestamp(header: str) -> int:
    for item in header.split(","):
        name, _sep, value = item.strip().partition("=")
        if name == "t":
            return int(value)
    raise ValueError("no timestamp")


def stripe_signature_verify(*, payload: bytes, header: str | None, secrets: list[str], now: float | None = None) -> str:
    """The body as text when one of `secrets` signed it within the tolerance; SignatureRefused otherwise."""
    if not header:
        raise SignatureRefused("missing Stripe-Signature header")
    if not secrets:
        raise SignatureRefused("no signing secret configured")
    try:
        signed_at = _timestamp(header)
        text = payload.decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise SignatureRefused("malformed header or body") from exc
    now = time.time() if now is None else now
    if abs(now - signed_at) > TOLERANCE_SECONDS:
        raise SignatureRefused("timestamp outside the tolerance")
    for secret in secrets:
        try:
            # tolerance=None: the time was checked above, both ways.
            stripe.WebhookSignature.verify_header(text, header, secret, tolerance=None)
        except stripe.SignatureVerificationError:
            continue
        return text
    raise SignatureRefused("no signature matches")
