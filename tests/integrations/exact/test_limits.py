"""Exact's limits: 60 calls a minute and 5,000 a day per division, counted in Redis before each call; a 429 or an
exhausted budget blocks the division until Exact's reset, and the work waits instead of hammering Exact."""

import time

import pytest

from integrations.exact import ratelimit
from integrations.exact.client import ExactClient
from integrations.exact.ratelimit import RateLimited, rate_acquire, rate_blocked_for, rate_observe
from integrations.exact.services import sync
from tests.integrations.exact.conftest import company_make


def test_a_burst_stays_within_sixty_calls_a_minute(exact):
    # Pin the minute so the burst cannot straddle two windows.
    now = (int(time.time() // 60) * 60) + 1
    calls, refused = 0, 0
    for _ in range(75):
        try:
            rate_acquire(division=4242, now=now)
            calls += 1
        except RateLimited as exc:
            refused += 1
            assert 0 < exc.retry_after <= 60
    assert (calls, refused) == (60, 15)


def test_the_daily_budget_is_five_thousand(tenant_alpha, monkeypatch):
    monkeypatch.setattr(ratelimit, "MINUTE_LIMIT", 10_000)
    now = int(time.time() // 86400) * 86400 + 10
    for _ in range(5000):
        rate_acquire(division=7, now=now)
    with pytest.raises(RateLimited) as refused:
        rate_acquire(division=7, now=now)
    assert refused.value.retry_after == pytest.approx(86400 - 10)


def test_pushing_many_companies_never_meets_a_429(exact, monkeypatch):
    # Our clock stands still inside one minute: the budget of that minute is all there is.
    pinned = int(time.time() // 60) * 60 + 1
    monkeypatch.setattr(ratelimit.time, "time", lambda: pinned)
    refused = 0
    for n in range(40):
        try:
            sync.company_push(company_id=company_make(f"Company {n}").pk)
        except RateLimited:
            refused += 1
    assert [c for c in exact.state.calls if c.status == 429] == []
    division_calls = [c for c in exact.state.calls if c.path.startswith("/api/v1/4242/")]
    assert len(division_calls) == 60
    assert refused > 0  # the rest waits for the next minute


def test_a_429_blocks_the_division_until_exacts_reset(exact):
    exact.fault("GET", "vat/VATCodes", "429")
    with pytest.raises(RateLimited):
        ExactClient().collection("vat/VATCodes")
    assert 0 < rate_blocked_for(division=4242) <= 60
    before = len(exact.state.calls)
    with pytest.raises(RateLimited):
        ExactClient().collection("vat/VATCodes")
    assert len(exact.state.calls) == before  # refused here, Exact never asked


def test_no_minutely_calls_left_waits_for_the_minutely_reset(tenant_alpha):
    now = 1_800_000_000.0
    headers = {
        "X-RateLimit-Minutely-Remaining": "0",
        "X-RateLimit-Minutely-Reset": str(int((now + 42) * 1000)),
        "X-RateLimit-Remaining": "4000",
        "X-RateLimit-Reset": str(int((now + 5000) * 1000)),
    }
    rate_observe(division=9, headers=headers, status=200, now=now)
    with pytest.raises(RateLimited) as refused:
        rate_acquire(division=9, now=now)
    assert refused.value.retry_after == pytest.approx(42)


def test_the_exact_task_retries_after_the_wait_exact_asked_for(exact, monkeypatch):
    from integrations.exact import tasks

    retries = []

    class Task:
        def retry(self, countdown, max_retries):
            retries.append(countdown)
            return RuntimeError("retry")

    def limited():
        raise RateLimited(17)

    with pytest.raises(RuntimeError):
        tasks._retrying(Task(), limited)
    assert retries == [17]
