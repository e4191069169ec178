"""Connecting a tenant to Exact Online and disconnecting it."""

from __future__ import annotations

import hmac
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations.exact import tokens
from integrations.exact.client import ExactClient, ExactRefused, ExactUnavailable, RateLimited
from integrations.models import ConnectionState, ExactConnection, ExactCountry

SESSION_KEY = "integrations.exact.oauth"


def connection_start(*, session, country: str, redirect_uri: str) -> str:
    """The URL of Exact's consent screen. The state parameter is random and kept in this user's session, so a
    callback that another browser (or a forged link) brings is refused."""
    if country not in ExactCountry.values:
        raise ValidationError({"country": [_("Choose the country of your Exact Online site.")]})
    state = secrets.token_urlsafe(32)
    session[SESSION_KEY] = {"state": state, "country": country, "redirect_uri": redirect_uri}
    return tokens.authorize_url(country=country, redirect_uri=redirect_uri, state=state)


def connection_complete(*, session, code: str, state: str) -> ExactConnection:
    """Exact sent the admin back with a code: check the state, trade the code for tokens, read the division from
    current/Me. The state is single use."""
    pending = session.pop(SESSION_KEY, None)
    expected = (pending or {}).get("state", "")
    if not expected or not state or not hmac.compare_digest(str(expected), str(state)):
        raise ValidationError(
            _("This answer from Exact Online does not belong to a connection you started. Connect again.")
        )
    if not code:
        raise ValidationError(_("Exact Online did not grant access. Connect again."))
    country = pending["country"]
    try:
        granted = tokens.code_exchange(country=country, code=code, redirect_uri=pending["redirect_uri"])
    except ExactUnavailable as exc:
        raise ValidationError(_("Exact Online could not be reached. Try again in a moment.")) from exc
    if granted is None:
        raise ValidationError(_("Exact Online refused the sign-in code. Connect again."))
    tokens.tokens_store(
        tokens=granted,
        refreshed=True,
        country=country,
        state=ConnectionState.CONNECTED,
        division=None,
        last_error="",
    )
    try:
        me = ExactClient().me()
    except (ExactUnavailable, ExactRefused, RateLimited, tokens.NotConnected) as exc:
        connection_disconnect()
        raise ValidationError(_("Exact Online did not tell which company to use. Connect again.")) from exc
    now = timezone.now()
    with transaction.atomic():
        row = ExactConnection.objects.select_for_update().get(pk=1)
        row.division = int(me.get("CurrentDivision") or 0) or None
        row.division_name = str(me.get("DivisionCustomerName") or "")[:200]
        row.user_name = str(me.get("UserName") or "")[:200]
        row.user_full_name = str(me.get("FullName") or "")[:200]
        row.connected_at = now
        row.updated_at = now
        row.save()
    return row


def connection_disconnect() -> None:
    """Forget the tokens. The map of synced records stays, so connecting the same division again duplicates
    nothing."""
    ExactConnection.objects.filter(pk=1).update(
        state=ConnectionState.DISCONNECTED,
        access_token_encrypted="",
        refresh_token_encrypted="",
        access_expires_at=None,
        updated_at=timezone.now(),
    )
