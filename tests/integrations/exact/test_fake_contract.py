"""The local Exact answers as Exact's published REST API does: OData envelopes, paging, rate-limit headers, 401 on
an expired token, 204 on an update, and the token endpoint's rotation."""

import json
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest

from tests.integrations.fake_exact import ACCESS_TTL, CLIENT_ID, CLIENT_SECRET, FakeExact


@pytest.fixture
def fake():
    server = FakeExact()
    yield server
    server.close()


def _token(fake, **form):
    body = urlencode({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **form}).encode()
    request = urllib.request.Request(f"{fake.url}/api/oauth2/token", data=body, method="POST")
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _get(fake, path, token):
    request = urllib.request.Request(f"{fake.url}{path}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, dict(answer.headers.items()), json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), None


def test_token_endpoint_rotates_and_refuses_the_old_refresh_token(fake):
    status, first = _token(fake, grant_type="authorization_code", code=fake.code_issue())
    assert status == 200
    assert set(first) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert first["expires_in"] == str(ACCESS_TTL)
    status, second = _token(fake, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert status == 200 and second["refresh_token"] != first["refresh_token"]
    status, refused = _token(fake, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert (status, refused["error"]) == (400, "invalid_grant")


def test_collections_page_with_next_and_carry_rate_limit_headers(fake):
    _status, tokens = _token(fake, grant_type="authorization_code", code=fake.code_issue())
    for n in range(61):
        fake.insert("crm/Accounts", {"Name": f"A{n}", "Code": str(n)})
    status, headers, body = _get(fake, "/api/v1/4242/crm/Accounts", tokens["access_token"])
    assert status == 200
    assert len(body["d"]["results"]) == 60 and "__next" in body["d"]
    for name in (
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "X-RateLimit-Minutely-Limit",
        "X-RateLimit-Minutely-Remaining",
        "X-RateLimit-Minutely-Reset",
    ):
        assert name in headers
    assert headers["X-RateLimit-Minutely-Remaining"] == "59"
    status, _h, filtered = _get(
        fake, "/api/v1/4242/crm/Accounts?%24filter=Code%20eq%20%2742%27", tokens["access_token"]
    )
    assert [r["Name"] for r in filtered["d"]["results"]] == ["A42"]
    fake.clock(ACCESS_TTL + 1)
    assert _get(fake, "/api/v1/4242/crm/Accounts", tokens["access_token"])[0] == 401


def test_past_sixty_calls_a_minute_answers_429(fake):
    _status, tokens = _token(fake, grant_type="authorization_code", code=fake.code_issue())
    fake.state.minute_limit = 3
    statuses = [_get(fake, "/api/v1/4242/vat/VATCodes", tokens["access_token"])[0] for _ in range(4)]
    assert statuses[-1] == 429
