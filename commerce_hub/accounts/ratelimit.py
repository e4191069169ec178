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
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Limit:
    hits: int
    window_seconds: int
    # Shown on the 429 page: what the visitor tried too often.
    what: str


# Per key (a client address, an email, a token prefix) within the window. Generous enough that a person never
# meets them, tight enough that guessing is useless (a 256-bit token at 30 guesses a minute).
LIMITS: dict[str, Limit] = {
    "login": Limit(hits=30, window_seconds=300, what=_("signing in")),
    "signup": Limit(hits=5, window_seconds=3600, what=_("creating an account")),
    "password_reset": Limit(hits=5, window_seconds=3600, what=_("asking for a password reset")),
    "invitation": Limit(hits=20, window_seconds=600, what=_("opening invitations")),
    "hosted_token": Limit(hits=30, window_seconds=600, what=_("opening links that do not exist")),
    "otp": Limit(hits=10, window_seconds=600, what=_("entering verification codes")),
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


def ratelimit_hit(*, name: str, keys: list[str | None], now: float | None = None) -> Verdict:
    """Count one hit against each key; refuse when any key is over the limit in the current window."""
    limit = LIMITS[name]
    now = time.time() if now is None else now
    start = _window_start(limit, now)
    allowed = True
    for key in keys:
        if not key:
            continue
        cache_key = f"{_key(name, key)}:{start}"
        cache.add(cache_key, 0, timeout=limit.window_seconds + 5)
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr()
            cache.add(cache_key, 1, timeout=limit.window_seconds + 5)
            count = 1
        if count > limit.hits:
            allowed = False
    retry_after = 0 if allowed else max(1, math.ceil(start + limit.window_seconds - now))
    return Verdict(allowed=allowed, retry_after=retry_after)


def ratelimit_peek(*, name: str, keys: list[str | None], now: float | None = None) -> Verdict:
    """Whether a hit now would be refused, without counting one (to refuse before doing any work)."""
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
        {"what": LIMITS[name].what, "minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response
