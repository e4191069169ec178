"""Login throttling in the (tenant-scoped) cache.

Attempts are counted per email and client IP before the password is checked, so parallel requests cannot slip
past the limit while the slow password hash runs. LOGIN_FAILURE_LIMIT attempts within the window lock that pair for
the rest of the window; a successful sign-in clears its count. A looser count per email alone (4x the limit) stops
one account being guessed from many addresses.
"""

import contextlib
import hashlib

from django.conf import settings
from django.core.cache import cache


def _keys(email: str, ip: str | None) -> tuple[str, str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"login-fail:{digest}:{ip or '-'}", f"login-fail:{digest}:any"


def _increment(key: str) -> int:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    # add() starts the window on the first attempt; incr() keeps its expiry. If the key expires in between,
    # incr() raises and the attempt starts a new window.
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:
        cache.add(key, 1, timeout=window)
        return 1


def login_attempt_reserve(email: str, ip: str | None) -> tuple[bool, bool]:
    """Count this attempt. Returns (allowed, first_refusal): allowed is False once the email and IP (or the email
    alone) have used up their attempts; first_refusal marks the attempt that hit the lock, to audit it once."""
    pair_key, email_key = _keys(email, ip)
    pair = _increment(pair_key)
    overall = _increment(email_key)
    limit = settings.LOGIN_FAILURE_LIMIT
    allowed = pair <= limit and overall <= limit * 4
    return allowed, (not allowed and (pair == limit + 1 or overall == limit * 4 + 1))


def login_is_locked(email: str, ip: str | None) -> bool:
    pair_key, email_key = _keys(email, ip)
    counts = cache.get_many([pair_key, email_key])
    return (
        counts.get(pair_key, 0) >= settings.LOGIN_FAILURE_LIMIT
        or counts.get(email_key, 0) >= settings.LOGIN_FAILURE_LIMIT * 4
    )


def login_clear_failures(email: str, ip: str | None) -> None:
    pair_key, email_key = _keys(email, ip)
    cache.delete(pair_key)
    # The success also takes back its own attempt from the per-email count.
    with contextlib.suppress(ValueError):  # the window may have just expired
        cache.decr(email_key)
