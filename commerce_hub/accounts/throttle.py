"""Login throttling in the (tenant-scoped) cache.

Failures are counted per email and client IP. Reaching LOGIN_FAILURE_LIMIT within the window locks that pair for
the rest of the window; a success clears the count. A looser count per email alone (4x the limit) stops one
account being guessed from many addresses.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache


def _keys(email: str, ip: str | None) -> tuple[str, str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"login-fail:{digest}:{ip or '-'}", f"login-fail:{digest}:any"


def login_is_locked(email: str, ip: str | None) -> bool:
    pair_key, email_key = _keys(email, ip)
    counts = cache.get_many([pair_key, email_key])
    return (
        counts.get(pair_key, 0) >= settings.LOGIN_FAILURE_LIMIT
        or counts.get(email_key, 0) >= settings.LOGIN_FAILURE_LIMIT * 4
    )


def login_record_failure(email: str, ip: str | None) -> int:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    pair_key, email_key = _keys(email, ip)
    for key in (pair_key, email_key):
        # add() starts the window on the first failure; incr() keeps the original expiry.
        cache.add(key, 0, timeout=window)
    cache.incr(email_key)
    return cache.incr(pair_key)


def login_clear_failures(email: str, ip: str | None) -> None:
    cache.delete(_keys(email, ip)[0])
