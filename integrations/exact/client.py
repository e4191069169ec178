"""Exact Online's REST API for one tenant: OData collections with d.results and __next paging, entity reads,
creates and updates. Each call takes one from the division's rate budget first, learns from the X-RateLimit headers
after, refreshes the access token once on a 401, and raises:

- RateLimited (429 or no budget left): retry after `retry_after` seconds;
- ExactUnavailable (timeout, no connection, 5xx): the outcome is unknown, look up before creating again;
- ExactRefused (another 4xx): Exact said no; the message is Exact's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from integrations.exact.http import Answer, ExactUnavailable, base_url, exchange
from integrations.exact.ratelimit import RateLimited, rate_acquire, rate_observe
from integrations.exact.tokens import access_token

__all__ = ["ExactClient", "ExactRefused", "ExactUnavailable", "RateLimited", "odata_quote"]


class ExactRefused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(f"Exact answered {status}: {message}")
        self.status = status
        self.message = message


def odata_quote(value: str) -> str:
    """A string literal in an OData $filter: single quotes doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def _error_message(answer: Answer) -> str:
    data = answer.data if isinstance(answer.data, dict) else {}
    error = data.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, dict):
            return str(message.get("value", ""))
        return str(message or "")
    return answer.text[:500]


@dataclass
class Exchange:
    """The last request and answer, for the sync log."""

    method: str = ""
    path: str = ""
    request: str = ""
    status: int | None = None
    response: str = ""


@dataclass
class ExactClient:
    last: Exchange = field(default_factory=Exchange)
    calls: int = 0

    def _url(self, row, path: str) -> str:
        if path.startswith("http"):
            return path
        if path.startswith("current/"):
            return f"{base_url(row.country)}/api/v1/{path}"
        return f"{base_url(row.country)}/api/v1/{row.division}/{path}"

    def call(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None) -> Answer:
        token, row = access_token()
        url = self._url(row, path)
        if params:
            url = f"{url}?{urlencode(params, quote_via=quote)}"
        payload = json.dumps(body).encode() if body is not None else None
        self.last = Exchange(method=method, path=url, request=payload.decode() if payload else "")
        for attempt in (1, 2):
            if row.division and not path.startswith("current/"):
                rate_acquire(division=row.division)
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            if payload is not None:
                headers["Content-Type"] = "application/json"
            self.calls += 1
            try:
                answer = exchange(method, url, headers=headers, body=payload)
            except ExactUnavailable as exc:
                self.last.response = str(exc)
                raise
            self.last.status, self.last.response = answer.status, answer.text[:20000]
            if row.division:
                rate_observe(division=row.division, headers=answer.headers, status=answer.status)
            if answer.status == 401 and attempt == 1:
                token, row = access_token(stale=token)
                continue
            break
        if answer.status == 429:
            raise RateLimited(60)
        if answer.status >= 400:
            raise ExactRefused(answer.status, _error_message(answer))
        return answer

    # --- OData helpers --------------------------------------------------------------------------------------------

    def collection(self, path: str, *, params: dict | None = None, limit: int | None = None) -> list[dict]:
        """Every row of a collection, following __next links."""
        rows: list[dict] = []
        answer = self.call("GET", path, params=params)
        while True:
            d = (answer.data or {}).get("d", {}) if isinstance(answer.data, dict) else {}
            rows.extend(d.get("results", []) if isinstance(d, dict) else d)
            following = d.get("__next") if isinstance(d, dict) else None
            if not following or (limit and len(rows) >= limit):
                return rows[:limit] if limit else rows
            answer = self.call("GET", following)

    def find(self, path: str, *, field_name: str, value: str, guid: bool = False) -> list[dict]:
        literal = f"guid{odata_quote(value)}" if guid else odata_quote(value)
        return self.collection(path, params={"$filter": f"{field_name} eq {literal}"})

    def create(self, path: str, body: dict) -> dict:
        answer = self.call("POST", path, body=body)
        d = (answer.data or {}).get("d", {}) if isinstance(answer.data, dict) else {}
        return d if isinstance(d, dict) else {}

    def update(self, path: str, guid: str, body: dict) -> None:
        self.call("PUT", f"{path}(guid{odata_quote(guid)})", body=body)

    def me(self) -> dict:
        rows = self.collection(
            "current/Me", params={"$select": "CurrentDivision,FullName,UserName,DivisionCustomerName"}
        )
        return rows[0] if rows else {}
