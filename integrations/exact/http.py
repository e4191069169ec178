"""One HTTP exchange with Exact (stdlib urllib, so the connector needs no HTTP library of its own).

`request_hooks` run before every call: the tests register one that asserts no database transaction is open, which
is the connector's rule (a slow Exact must never hold a row lock)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

DEFAULT_TIMEOUT = 20.0
request_hooks: list[Callable[[str, str], None]] = []


class ExactUnavailable(Exception):
    """No answer (timeout, connection refused) or a 5xx: the outcome of a write is unknown, so a retry looks up
    by our reference before creating again."""


@dataclass
class Answer:
    status: int
    data: object
    headers: dict = field(default_factory=dict)
    text: str = ""


def base_url(country: str) -> str:
    """start.exactonline.<tld> for the tenant's country, or EXACT_BASE_URL (the tests' local Exact)."""
    configured = getattr(settings, "EXACT_BASE_URL", "")
    return configured.rstrip("/") if configured else f"https://start.exactonline.{country}"


def timeout() -> float:
    return float(getattr(settings, "EXACT_TIMEOUT", DEFAULT_TIMEOUT))


def exchange(method: str, url: str, *, headers: dict | None = None, body: bytes | None = None) -> Answer:
    for hook in list(request_hooks):
        hook(method, url)
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout()) as response:  # noqa: S310 - the URL is Exact's https
            raw = response.read()
            status, answer_headers = response.status, dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        raw = exc.read() if exc.fp else b""
        status, answer_headers = exc.code, dict(exc.headers.items()) if exc.headers else {}
    except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
        raise ExactUnavailable(f"{method} {url}: {exc}") from exc
    text = raw.decode("utf-8", "replace")
    try:
        data = json.loads(text) if text else None
    except ValueError:
        data = None
    if status >= 500:
        raise ExactUnavailable(f"{method} {url}: HTTP {status}")
    return Answer(status=status, data=data, headers=answer_headers, text=text)
