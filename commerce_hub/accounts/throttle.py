"""Login throttling with growing delays, in the (tenant-scoped) cache. It never locks an account for its owner.

Attempts are counted before the password is checked, so parallel requests cannot slip past the limit while the slow
password hash runs. Three counters, each of which can make an attempt wait:

- the account from this client: the client is the browser's device cookie for this account (set by a successful
  sign-in) or else the client address. LOGIN_FAILURE_LIMIT attempts are free; from then on each attempt opens a gate
  that stays shut for LOGIN_DELAY_BASE_SECONDS, doubling with every further attempt up to LOGIN_DELAY_MAX_SECONDS;
- the account from clients it has never seen (4x the limit): stops one account being guessed from many addresses,
  while its owner on a device that signed in before is not held back by it;
- the client address across accounts (credential stuffing): the "login" rate limit, failures only.

A successful sign-in clears its own counter; a completed password reset clears every counter of the account (a new
generation in the keys), so a person who was held back can always get in by resetting their password.
"""

import contextlib
import hashlib
import time
import uuid

from django.conf import settings
from django.core import signing
from django.core.cache import cache

DEVICE_COOKIE = "ch_device"
_DEVICE_SALT = "commerce_hub.accounts.device"
_COUNT_TTL = 24 * 3600


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


def _generation(email: str) -> str:
    return cache.get(f"login-gen:{_digest(email)}") or "0"


def _client_keys(email: str, client: str) -> tuple[str, str]:
    base = f"login-fail:{_digest(email)}:{_generation(email)}"
    return f"{base}:{_digest(client)}", f"{base}:untrusted"


def delay_for(steps: int) -> int:
    """How long the gate stays shut after the attempt `steps` past the free ones (0 for the last free one)."""
    steps = max(0, steps)
    return min(settings.LOGIN_DELAY_BASE_SECONDS * (2 ** min(steps, 20)), settings.LOGIN_DELAY_MAX_SECONDS)


def _incr(key: str) -> int:
    cache.add(key, 0, timeout=_COUNT_TTL)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=_COUNT_TTL)
        return 1


def _pass(key: str, limit: int) -> tuple[bool, int]:
    """Count one attempt on `key`. Past the free attempts an attempt passes only by shutting the gate behind it
    (cache.add is atomic, so of parallel attempts exactly one gets through). Returns (allowed, seconds to wait)."""
    count = _incr(key)
    if count < limit:
        return True, 0
    delay = delay_for(count - limit)
    if cache.add(f"{key}:gate", time.time() + delay, timeout=delay):
        return True, 0
    # Refused attempts do not count: the delay grows with passwords actually tried.
    cache.decr(key)
    until = cache.get(f"{key}:gate") or time.time() + 1
    return False, max(1, int(until - time.time()) + 1)


def login_attempt_reserve(email: str, ip: str | None, *, device: str | None = None) -> tuple[bool, bool, int]:
    """Count this attempt. Returns (allowed, first_refusal, retry_after_seconds): first_refusal marks the first
    refused attempt of a shut gate, to audit it once. `device` is the verified device id of this account, if any."""
    client_key, untrusted_key = _client_keys(email, device or ip or "-")
    allowed, wait = _pass(client_key, settings.LOGIN_FAILURE_LIMIT)
    refused_key = client_key
    if allowed and device is None:
        allowed, wait = _pass(untrusted_key, settings.LOGIN_FAILURE_LIMIT * 4)
        refused_key = untrusted_key
        if not allowed:
            # Give back the attempt counted on the client's own counter: it was never tried.
            cache.decr(client_key)
    if allowed:
        return True, False, 0
    first = cache.add(f"{refused_key}:audited", 1, timeout=max(wait, 1))
    return False, first, wait


def login_is_locked(email: str, ip: str | None) -> bool:
    client_key, untrusted_key = _client_keys(email, ip or "-")
    return cache.get(f"{client_key}:gate") is not None or cache.get(f"{untrusted_key}:gate") is not None


def login_clear_failures(email: str, ip: str | None, *, device: str | None = None) -> None:
    client_key, untrusted_key = _client_keys(email, device or ip or "-")
    cache.delete_many([client_key, f"{client_key}:gate", f"{client_key}:audited"])
    if device is None:
        with contextlib.suppress(ValueError):
            cache.decr(untrusted_key)  # the success takes back its own attempt from the account's count


def login_reset_all(email: str) -> None:
    """A completed password reset: every counter of the account starts over (old keys expire on their own)."""
    cache.set(f"login-gen:{_digest(email)}", uuid.uuid4().hex, timeout=_COUNT_TTL * 2)


def device_token_make(email: str) -> str:
    """The device cookie's value after a successful sign-in: a signed random id bound to the account."""
    return signing.dumps({"e": _digest(email), "d": uuid.uuid4().hex}, salt=_DEVICE_SALT)


def device_from_request(request, email: str) -> str | None:
    """This browser's device id for the account, when its cookie is genuine and was made for this account."""
    raw = request.COOKIES.get(DEVICE_COOKIE, "")
    for value in raw.split("|")[:10]:
        try:
            data = signing.loads(value, salt=_DEVICE_SALT, max_age=settings.LOGIN_DEVICE_COOKIE_SECONDS)
        except signing.BadSignature:
            continue
        if data.get("e") == _digest(email):
            return data.get("d")
    return None


def device_cookie_set(response, request, email: str) -> None:
    """Remember this browser for the account (keeping the few other accounts it signed in to)."""
    kept = [
        v
        for v in request.COOKIES.get(DEVICE_COOKIE, "").split("|")[:5]
        if v and _device_email(v) not in (None, _digest(email))
    ]
    response.set_cookie(
        DEVICE_COOKIE,
        "|".join([device_token_make(email), *kept]),
        max_age=settings.LOGIN_DEVICE_COOKIE_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _device_email(value: str) -> str | None:
    try:
        return signing.loads(value, salt=_DEVICE_SALT, max_age=settings.LOGIN_DEVICE_COOKIE_SECONDS).get("e")
    except signing.BadSignature:
        return None
