"""Fixed-window rate limits in Redis (the default cache), per client address and per target.

A limit is a name, a number of hits and a window: `ratelimit_hit(name="signup", keys=[ip, email])` counts one hit
against every key and says whether any of them is over its limit. Keys are hashed (an email or a token never lands
in Redis in the clear) and carry the cache's tenant key function, so two tenants never share a counter, and
RATE_LIMIT_NAMESPACE, which the test suite changes per test so limits never leak from one test into the next.

A refused request answers 429 with the page `errors/429.html`, which says what was limited and when to try again.
"""

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils.translation import ngettext_lazy


@dataclass(frozen=True)
class Limit:
    hits: int
    window_seconds: int
    # Shown on the 429 page: a whole sentence (singular and plural) with %(count)d, the minutes to wait.
    message: str


# Per key (a client address, an email, a token prefix) within the window. Generous enough that a person never
# meets them, tight enough that guessing is useless (a 256-bit token at 30 guesses a minute).
LIMITS: dict[str, Limit] = {
    "login": Limit(
        hits=30,
        window_seconds=300,
        message=ngettext_lazy(
            "You tried to sign in too often in a short time. Wait %(count)d minute and try again.",
            "You tried to sign in too often in a short time. Wait %(count)d minutes and try again.",
            "count",
        ),
    ),
    "signup": Limit(
        hits=5,
        window_seconds=3600,
        message=ngettext_lazy(
            "You tried to create an account too often in a short time. Wait %(count)d minute and try again.",
            "You tried to create an account too often in a short time. Wait %(count)d minutes and try again.",
            "count",
        ),
    ),
    "password_reset": Limit(
        hits=5,
        window_seconds=3600,
        message=ngettext_lazy(
            "You asked for a password reset too often in a short time. Wait %(count)d minute and try again.",
            "You asked for a password reset too often in a short time. Wait %(count)d minutes and try again.",
            "count",
        ),
    ),
    "invitation": Limit(
        hits=20,
        window_seconds=600,
        message=ngettext_lazy(
            "You opened invitations too often in a short time. Wait %(count)d minute and try again.",
            "You opened invitations too often in a short time. Wait %(count)d minutes and try again.",
            "count",
        ),
    ),
    "hosted_token": Limit(
        hits=30,
        window_seconds=600,
        message=ngettext_lazy(
            "You opened links that do not exist too often in a short time. Wait %(count)d minute and try again.",
            "You opened links that do not exist too often in a short time. Wait %(count)d minutes and try again.",
            "count",
        ),
    ),
    "otp": Limit(
        hits=10,
        window_seconds=600,
        message=ngettext_lazy(
            "You entered verification codes too often in a short time. Wait %(count)d minute and try again.",
            "You entered verification codes too often in a short time. Wait %(count)d minutes and try again.",
            "count",
        ),
    ),
}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def _key(name: str, key: str) -> str:
    digest = hashlib.sha256(str(key).strip().lower().encode()).hexdigest()[:32]
    namespace = getattr(settings, "RATE_LIMIT_NAMESPACE", "")
    return f"rl:{namespace}:{name}:{digest}"


def _window_start(limit: Limit, now: float) -> int:
    return int(now // limit.window_seconds) * limit.window_seconds


# Count and expire in one step, on the Redis server: the first hit of a window sets its expiry, so a counter never
# outlives its window and no two requests can both read "29" and both pass a limit of 30.
_INCR_WITH_EXPIRY = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return count
"""


def _incr(cache_key: str, *, by: int, timeout: int) -> int:
    """Add `by` to a counter atomically and return its new value (the tenant key function applies, as for every
    cache key)."""
    key = cache.make_and_validate_key(cache_key)
    client = cache._cache.get_client(key, write=True)
    return int(client.eval(_INCR_WITH_EXPIRY, 1, key, by, timeout))


def _count(name: str, keys: list[str | None], now: float | None, *, by: int = 1) -> Verdict:
    limit = LIMITS[name]
    now = time.time() if now is None else now
    start = _window_start(limit, now)
    allowed = True
    for key in keys:
        if not key:
            continue
        count = _incr(f"{_key(name, key)}:{start}", by=by, timeout=limit.window_seconds + 5)
        if count > limit.hits:
            allowed = False
    retry_after = 0 if allowed else max(1, math.ceil(start + limit.window_seconds - now))
    return Verdict(allowed=allowed, retry_after=retry_after)


def ratelimit_hit(*, name: str, keys: list[str | None], now: float | None = None) -> Verdict:
    """Count one hit against each key; refuse when any key is over the limit in the current window. Checking and
    counting are one atomic Redis operation per key, so concurrent requests can never pass more than the limit."""
    return _count(name, keys, now)


def ratelimit_give_back(*, name: str, keys: list[str | None], now: float | None = None) -> None:
    """Undo a hit counted up front that turned out not to count (a hosted link that did exist)."""
    _count(name, keys, now, by=-1)


def ratelimit_peek(*, name: str, keys: list[str | None], now: float | None = None) -> Verdict:
    """Whether a hit now would be refused, without counting one (to refuse before doing any work). Not atomic with
    a later ratelimit_hit: where concurrent requests must not pass the limit together, count first with
    ratelimit_hit and give the hit back with ratelimit_give_back when it should not have counted."""
    limit = LIMITS[name]
    now = time.time() if now is None else now
    start = _window_start(limit, now)
    wanted = [f"{_key(name, key)}:{start}" for key in keys if key]
    counts = cache.get_many(wanted)
    if any(int(counts.get(k, 0)) >= limit.hits for k in wanted):
        return Verdict(allowed=False, retry_after=max(1, math.ceil(start + limit.window_seconds - now)))
    return Verdict(allowed=True)


def ratelimit_clear(*, name: str, key: str, now: float | None = None) -> None:
    limit = LIMITS[name]
    now = time.time() if now is None else now
    cache.delete(f"{_key(name, key)}:{_window_start(limit, now)}")


def too_many_requests(request, *, name: str, retry_after: int):
    """The 429 page: what was limited and how long to wait."""
    minutes = max(1, math.ceil(retry_after / 60))
    response = render(
        request,
        "errors/429.html",
        {"message": LIMITS[name].message % {"count": minutes}},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response
