"""Connecting to Exact Online: OAuth with the state bound to the session, tokens stored encrypted and rotated,
refreshes at most once per 9.5 minutes, reconnect needed when Exact refuses, and each tenant sees only its own."""

import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection as db
from django.test import Client

from commerce_hub.accounts.models import Role
from integrations.exact.client import ExactClient
from integrations.exact.tokens import ReconnectNeeded, access_token
from integrations.models import ConnectionState, ExactConnection
from payments.crypto import secret_decrypt
from tests.concurrency import in_threads
from tests.conftest import user_make
from tests.integrations.exact.conftest import connect, elapse


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _consent(url: str) -> str:
    """The admin approves on Exact's consent screen; Exact redirects back with a code (the Location header)."""
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(url)
    except urllib.error.HTTPError as exc:
        return exc.headers["Location"]
    raise AssertionError("no redirect")


def test_connect_reads_division_and_stores_tokens_encrypted(fake_exact, admin_client):
    response = admin_client.post("/integrations/exact/connect/", {"country": "nl"})
    assert response.status_code == 302
    assert response.url.startswith(f"{fake_exact.url}/api/oauth2/auth?")
    query = parse_qs(urlsplit(response.url).query)
    assert query["redirect_uri"] == ["http://alpha.localhost/integrations/exact/callback/"]
    back = urlsplit(_consent(response.url))
    response = admin_client.get(f"{back.path}?{back.query}")
    assert response.status_code == 302
    row = ExactConnection.objects.get(pk=1)
    assert (row.state, row.division, row.division_name, row.country) == (
        ConnectionState.CONNECTED,
        4242,
        "Alpha Handel B.V.",
        "nl",
    )
    valid_refresh = next(iter(fake_exact.state.refresh_tokens))
    assert valid_refresh not in row.refresh_token_encrypted
    assert secret_decrypt(row.refresh_token_encrypted) == valid_refresh
    page = admin_client.get("/integrations/exact/").content.decode()
    assert "Connected as eva@alpha.example / division Alpha Handel B.V." in page


def test_a_forged_state_is_refused(fake_exact, admin_client):
    admin_client.post("/integrations/exact/connect/", {"country": "nl"})
    code = fake_exact.code_issue()
    response = admin_client.get(f"/integrations/exact/callback/?code={code}&state=forged-state")
    assert response.status_code == 400
    assert "does not belong to a connection you started" in response.content.decode()
    assert not ExactConnection.objects.filter(state=ConnectionState.CONNECTED).exists()
    # The state is single use: the genuine one no longer works after a refused attempt either.
    assert fake_exact.state.token_requests == []


def test_a_callback_without_a_started_connection_is_refused(fake_exact, admin_client):
    response = admin_client.get(f"/integrations/exact/callback/?code={fake_exact.code_issue()}&state=x")
    assert response.status_code == 400


def test_an_unknown_country_is_refused(fake_exact, admin_client):
    response = admin_client.post("/integrations/exact/connect/", {"country": "xx"}, follow=True)
    assert "Choose the country of your Exact Online site." in response.content.decode()


def test_refresh_stores_the_rotated_refresh_token_and_never_reuses_an_old_one(exact):
    first = secret_decrypt(ExactConnection.objects.get(pk=1).refresh_token_encrypted)
    for _ in range(3):
        elapse(exact, 600)  # the access token expired
        ExactClient().collection("vat/VATCodes")
        stored = secret_decrypt(ExactConnection.objects.get(pk=1).refresh_token_encrypted)
        assert exact.state.refresh_tokens == {stored}
    used = exact.state.used_refresh_tokens
    assert used[0] == first
    assert len(used) == 3 and len(set(used)) == 3
    assert [ok for grant, ok in exact.state.token_requests] == [True, True, True, True]


def test_no_refresh_within_nine_and_a_half_minutes(exact):
    token, _row = access_token()
    elapse(exact, 60)
    # Exact refused the token (say, a clock skew): still no second refresh within 9.5 minutes of the last.
    again, _row = access_token(stale=token)
    assert again == token
    assert [grant for grant, ok in exact.state.token_requests] == ["authorization_code"]


def test_invalid_grant_means_reconnect_needed(exact, admin_client):
    exact.state.refresh_tokens = set()  # access withdrawn in Exact
    elapse(exact, 600)
    with pytest.raises(ReconnectNeeded):
        ExactClient().collection("vat/VATCodes")
    assert ExactConnection.objects.get(pk=1).state == ConnectionState.RECONNECT
    page = admin_client.get("/integrations/exact/").content.decode()
    assert "Reconnect needed" in page
    assert ">Reconnect</button>" in page


def test_disconnect_asks_first_then_forgets_the_tokens(exact, admin_client):
    response = admin_client.post("/integrations/exact/disconnect/")
    assert response.url == "/integrations/exact/?confirm=disconnect"
    assert "Yes, disconnect" in admin_client.get(response.url).content.decode()
    assert ExactConnection.objects.get(pk=1).state == ConnectionState.CONNECTED
    admin_client.post("/integrations/exact/disconnect/", {"confirm": "yes"})
    row = ExactConnection.objects.get(pk=1)
    assert (row.state, row.access_token_encrypted, row.refresh_token_encrypted) == ("disconnected", "", "")


def test_settings_need_the_manage_settings_permission(exact, client_alpha):
    client_alpha.force_login(user_make(Role.SALES))
    assert client_alpha.get("/integrations/exact/").status_code == 403
    assert client_alpha.get("/integrations/exact/log/").status_code == 403


def test_another_tenant_cannot_see_this_tenants_connection(exact, tenant_bravo):
    db.set_tenant(tenant_bravo)
    other = Client(HTTP_HOST="bravo.localhost")
    other.force_login(user_make(Role.ADMIN))
    page = other.get("/integrations/exact/").content.decode()
    assert "Not connected" in page
    assert "eva@alpha.example" not in page
    assert not ExactConnection.objects.exists()


def test_refresh_happens_once_when_many_workers_find_the_token_expired(fake_exact, django_db_setup, live_tenant):
    connect(fake_exact)
    elapse(fake_exact, 590)  # inside the 30-second margin: every worker wants a fresh token

    tokens = in_threads(6, lambda n: access_token()[0])
    assert len(set(tokens)) == 1
    grants = [grant for grant, ok in fake_exact.state.token_requests]
    assert grants == ["authorization_code", "refresh_token"]
    assert all(ok for grant, ok in fake_exact.state.token_requests)
