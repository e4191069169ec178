"""Exact's limits per division (company): 60 calls a minute and 5,000 a day. Counted in Redis before each call, so
every worker of every process shares one budget, and corrected from the X-RateLimit headers of each answer; a 429
or an exhausted budget blocks the division until Exact's reset time. A refused call raises RateLimited with the
seconds to wait: the task or delivery retries then, which spreads the work instead of hammering Exact."""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import cache

MINUTE_LIMIT = 60
DAY_LIMIT = 5000


class RateLimited(Exception):
    def __init__(self, retry_after: float):
        super().__init__(f"Exact's rate limit: retry in {math.ceil(retry_after)} s")
        self.retry_after = max(float(retry_after), 1.0)


def _redis():
    return cache._cache.get_client(write=True)


def _key(division: int, name: str) -> str:
    namespace = getattr(settings, "RATE_LIMIT_NAMESPACE", "")
    return f"exact-rl:{namespace}:{division}:{name}"


def rate_acquire(*, division: int, now: float | None = None) -> None:
    """Take one call from this division's budget, or raise RateLimited."""
    now = time.time() if now is None else now
    client = _redis()
    blocked = client.get(_key(division, "blocked"))
    if blocked is not None and float(blocked) > now:
        raise RateLimited(float(blocked) - now)
    minute = int(now // 60)
    day = int(now // 86400)
    pipe = client.pipeline()
    pipe.incr(_key(division, f"m{minute}"))
    pipe.expire(_key(division, f"m{minute}"), 120)
    pipe.incr(_key(division, f"d{day}"))
    pipe.expire(_key(division, f"d{day}"), 2 * 86400)
    minute_count, _, day_count, _ = pipe.execute()
    if day_count > DAY_LIMIT:
        raise RateLimited((day + 1) * 86400 - now)
    if minute_count > MINUTE_LIMIT:
        raise RateLimited((minute + 1) * 60 - now)


def _reset_seconds(value) -> float | None:
    """Exact's reset headers are milliseconds since the epoch."""
    try:
        return float(value) / 1000.0
    except (TypeError, ValueError):
        return None


def rate_observe(*, division: int, headers, status: int, now: float | None = None) -> None:
    """Learn from an answer: with nothing left this minute (or day), or a 429, wait until Exact's reset."""
    now = time.time() if now is None else now
    until = None
    minutely = headers.get("X-RateLimit-Minutely-Remaining")
    daily = headers.get("X-RateLimit-Remaining")
    if daily is not None and str(daily).strip() == "0":
        until = _reset_seconds(headers.get("X-RateLimit-Reset"))
    elif (minutely is not None and str(minutely).strip() == "0") or status == 429:
        until = _reset_seconds(headers.get("X-RateLimit-Minutely-Reset"))
    if status == 429 and until is None:
        retry = headers.get("Retry-After")
        until = now + (float(retry) if retry and str(retry).isdigit() else 60)
    if until is not None and until > now:
        _redis().set(_key(division, "blocked"), str(until), ex=math.ceil(until - now) + 1)


def rate_blocked_for(*, division: int, now: float | None = None) -> float:
    now = time.time() if now is None else now
    blocked = _redis().get(_key(division, "blocked"))
    return max(float(blocked) - now, 0.0) if blocked is not None else 0.0
