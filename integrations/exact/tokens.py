"""OAuth2 with Exact Online: the authorization-code grant when an admin connects, the refresh-token grant after.

Exact's access token lives ten minutes and its refresh token rotates on every use: the old one stops working the
moment a new one is issued. So a refresh stores the new refresh token in the same transaction as the new access
token, and two workers must never refresh at once (the loser would send a refresh token that was just rotated away
and get invalid_grant, which disconnects the tenant). Refreshes are serialized by a session-level advisory lock on
the tenant's connection, taken outside any transaction (the token call is an HTTP call): a worker that waited
finds the tokens fresh and reuses them. A refresh happens at most once per 9.5 minutes.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from integrations.exact.http import Answer, base_url, exchange
from integrations.models import ConnectionState, ExactConnection
from payments.crypto import SecretUnreadable, secret_decrypt, secret_encrypt

REFRESH_MIN_INTERVAL = timedelta(minutes=9, seconds=30)
# Refresh this long before the access token expires, so a call never starts with a token about to die.
EXPIRY_MARGIN = timedelta(seconds=30)


class NotConnected(Exception):
    """No usable connection: never connected, disconnected, or waiting for an admin to reconnect."""


class ReconnectNeeded(NotConnected):
    pass


@dataclass(frozen=True)
class Tokens:
    access: str
    refresh: str
    expires_in: int


def client_id() -> str:
    return getattr(settings, "EXACT_CLIENT_ID", "")


def authorize_url(*, country: str, redirect_uri: str, state: str) -> str:
    query = urlencode({"client_id": client_id(), "redirect_uri": redirect_uri, "response_type": "code", "state": state})
    return f"{base_url(country)}/api/oauth2/auth?{query}"


def _token_call(country: str, form: dict) -> Answer:
    form = {**form, "client_id": client_id(), "client_secret": getattr(settings, "EXACT_CLIENT_SECRET", "")}
    return exchange(
        "POST",
        f"{base_url(country)}/api/oauth2/token",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        body=urlencode(form).encode(),
    )


def _tokens_of(answer: Answer) -> Tokens | None:
    data = answer.data if isinstance(answer.data, dict) else {}
    if answer.status != 200 or not data.get("access_token") or not data.get("refresh_token"):
        return None
    return Tokens(data["access_token"], data["refresh_token"], int(data.get("expires_in") or 600))


def code_exchange(*, country: str, code: str, redirect_uri: str) -> Tokens | None:
    answer = _token_call(country, {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri})
    return _tokens_of(answer)


@contextmanager
def _refresh_lock():
    """A session-level advisory lock (held across the HTTP call without a transaction), per tenant."""
    key = f"{connection.schema_name}:integrations.exact.refresh"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])


def _fresh(row: ExactConnection, now) -> bool:
    return bool(row.access_expires_at and row.access_expires_at - EXPIRY_MARGIN > now)


def connection_usable() -> ExactConnection:
    row = ExactConnection.objects.filter(pk=1).first()
    if row is None or row.state == ConnectionState.DISCONNECTED:
        raise NotConnected("Exact Online is not connected.")
    if row.state == ConnectionState.RECONNECT:
        raise ReconnectNeeded("Exact Online needs to be connected again.")
    return row


def access_token(*, stale: str | None = None) -> tuple[str, ExactConnection]:
    """A valid access token, refreshed when it is about to expire. `stale` is a token Exact just refused (401):
    refresh unless another worker already replaced it."""
    row = connection_usable()
    now = timezone.now()
    current = _decrypt(row.access_token_encrypted)
    if _fresh(row, now) and current != stale:
        return current, row
    return token_refresh(stale=stale)


def _decrypt(value: str) -> str:
    try:
        return secret_decrypt(value) if value else ""
    except SecretUnreadable:
        return ""


def token_refresh(*, stale: str | None = None) -> tuple[str, ExactConnection]:
    with _refresh_lock():
        row = connection_usable()
        now = timezone.now()
        current = _decrypt(row.access_token_encrypted)
        recently = row.refreshed_at and now - row.refreshed_at < REFRESH_MIN_INTERVAL
        # Another worker refreshed while we waited for the lock, or refreshed less than 9.5 minutes ago: reuse.
        if current and (recently or (_fresh(row, now) and current != stale)):
            return current, row
        refresh = _decrypt(row.refresh_token_encrypted)
        if not refresh:
            _reconnect_needed("The stored refresh token cannot be read.")
            raise ReconnectNeeded("Exact Online needs to be connected again.")
        answer = _token_call(row.country, {"grant_type": "refresh_token", "refresh_token": refresh})
        tokens = _tokens_of(answer)
        if tokens is None:
            data = answer.data if isinstance(answer.data, dict) else {}
            if answer.status in (400, 401) and data.get("error") in ("invalid_grant", "invalid_client"):
                _reconnect_needed(str(data.get("error_description") or data.get("error")))
                raise ReconnectNeeded("Exact Online refused the refresh token: connect again.")
            raise NotConnected(f"Exact's token endpoint answered {answer.status}.")
        row = tokens_store(tokens=tokens, refreshed=True)
        return tokens.access, row


def tokens_store(*, tokens: Tokens, refreshed: bool, **fields) -> ExactConnection:
    """The access token and the refresh token it came with, in one transaction: the old refresh token is dead
    already, so storing one without the other would lose the connection."""
    now = timezone.now()
    with transaction.atomic():
        row, _ = ExactConnection.objects.select_for_update().get_or_create(pk=1)
        row.access_token_encrypted = secret_encrypt(tokens.access)
        row.refresh_token_encrypted = secret_encrypt(tokens.refresh)
        row.access_expires_at = now + timedelta(seconds=tokens.expires_in)
        row.refreshed_at = now if refreshed else row.refreshed_at
        row.updated_at = now
        for name, value in fields.items():
            setattr(row, name, value)
        row.save()
    return row


def _reconnect_needed(error: str) -> None:
    ExactConnection.objects.filter(pk=1, state=ConnectionState.CONNECTED).update(
        state=ConnectionState.RECONNECT, last_error=error[:2000], updated_at=timezone.now()
    )
