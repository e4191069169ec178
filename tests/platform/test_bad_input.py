"""No request produces a server error from its size or shape: every parameterless page of the tenant site gets a
fixed list of absurd query values on every filter it offers, and every form there gets them in every field. Each
answer is a page (200), a redirect, or a refusal (400, 404, 405, 422): never a 500."""

import re

import pytest

from tests.platform.urlwalk import tenant_routes

# A view id of 5000 digits (past Python's int-from-text limit), numbers beyond any column, pages far past the end,
# text that is not UTF-8, NUL bytes, and very long text.
BAD_VALUES = [
    "9" * 5000,
    "1e200000",
    "-1e200000",
    "NaN",
    "Infinity",
    "99999999999999999999999999",
    "%ff%fe%00",
    "\x00",
    "x" * 20000,
    "²³",
]
QUERY_KEYS = ["view", "page", "after", "q", "sort", "amount_min", "amount_max", "cols"]
_NAME_RE = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')


def _index_paths():
    return ["/" + r.pattern for r in tenant_routes() if not r.converters and "logout" not in r.pattern]


@pytest.mark.parametrize("bad", BAD_VALUES, ids=[f"bad{i}" for i in range(len(BAD_VALUES))])
def test_every_page_and_filter_survives_absurd_query_values(admin_client, bad):
    admin_client.raise_request_exception = False
    errors = []
    for path in _index_paths():
        page = admin_client.get(path)
        if page.status_code != 200 or page.streaming or "text/html" not in page.get("Content-Type", ""):
            continue
        names = set(QUERY_KEYS) | set(_NAME_RE.findall(page.content.decode()))
        names -= {"csrfmiddlewaretoken", "idempotency_key"}
        query = "&".join(f"{n}={bad if bad.startswith('%') else _quote(bad)}" for n in sorted(names))
        response = admin_client.get(f"{path}?{query}")
        if response.status_code >= 500:
            errors.append((path, response.status_code))
    assert errors == []


def _quote(value):
    from urllib.parse import quote

    return quote(value, safe="")


def test_every_form_survives_absurd_field_values(admin_client):
    admin_client.raise_request_exception = False
    errors = []
    for path in _index_paths():
        page = admin_client.get(path)
        if page.status_code != 200 or page.streaming or 'method="post"' not in page.content.decode():
            continue
        html = page.content.decode()
        names = set(_NAME_RE.findall(html)) - {"csrfmiddlewaretoken"}
        for bad in BAD_VALUES:
            data = {n: bad for n in names if n != "idempotency_key"}
            keys = re.findall(r'name="idempotency_key" value="([^"]+)"', html)
            if keys:
                data["idempotency_key"] = keys[0]
            response = admin_client.post(path, data)
            if response.status_code >= 500:
                errors.append((path, bad[:20], response.status_code))
    assert errors == []


def test_invalid_utf8_in_the_query_string_is_not_an_error(admin_client):
    response = admin_client.generic("GET", "/crm/deals/", QUERY_STRING="q=%ff%fe&view=%c3%28")
    assert response.status_code in (200, 400)


def test_a_10_mb_form_field_is_refused_with_400(admin_client):
    response = admin_client.post("/crm/companies/new/", {"name": "x" * (10 * 1024 * 1024)})
    assert response.status_code == 400


def test_huge_page_cursor_is_refused_or_ignored(admin_client):
    for index in ("/crm/companies/", "/crm/deals/", "/billing/invoices/"):
        assert admin_client.get(f"{index}?after={'9' * 400}").status_code in (200, 400)
