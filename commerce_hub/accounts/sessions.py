"""Session lifetime: idle timeout (the tenant's), absolute lifetime (SESSION_ABSOLUTE_SECONDS) and the list of a
user's sessions, so "sign out everywhere else" can end them.

Two stamps live in each signed-in session: when the person signed in and when they were last active. The activity
stamp is rewritten at most once a minute, so pages do not write the session on every request.
"""

import time
from importlib import import_module

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.sessions.models import Session
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from commerce_hub.accounts.policy import security_policy, security_policy_forget  # noqa: F401 - re-exported

AUTH_AT = "_ch_auth_at"
SEEN_AT = "_ch_seen_at"
_SEEN_RESOLUTION_SECONDS = 60


def session_stamp_login(request, user) -> None:
    """Called on every sign-in (user_logged_in): start both clocks and remember the session for the user's list."""
    from commerce_hub.accounts.models import UserSession
    from commerce_hub.request_context import client_ip

    now = int(time.time())
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now
    # The key exists only once the session is saved; saving now makes it the key the browser gets.
    request.session.save()
    UserSession.objects.update_or_create(
        session_key=request.session.session_key,
        defaults={
            "user": user,
            "ip_address": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        },
    )


def session_forget(session_key: str | None) -> None:
    from commerce_hub.accounts.models import UserSession

    if session_key:
        UserSession.objects.filter(session_key=session_key).delete()


def session_list_for(user):
    """The user's sessions that still exist in the store, newest first."""
    from commerce_hub.accounts.models import UserSession

    rows = list(UserSession.objects.filter(user=user))
    alive = set(
        Session.objects.filter(
            session_key__in=[r.session_key for r in rows], expire_date__gt=_now_datetime()
        ).values_list("session_key", flat=True)
    )
    return [r for r in rows if r.session_key in alive]


def sessions_end_others(*, user, keep_session_key: str | None) -> int:
    """End every session of the user but the one named (the one asking). Returns how many ended."""
    from commerce_hub.accounts.models import UserSession

    with transaction.atomic():
        keys = list(
            UserSession.objects.filter(user=user)
            .exclude(session_key=keep_session_key or "")
            .values_list("session_key", flat=True)
        )
        Session.objects.filter(session_key__in=keys).delete()
        UserSession.objects.filter(session_key__in=keys).delete()
    # Through the store as well, so a cache-backed SESSION_ENGINE forgets them too.
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(session_key=key).delete()
    return len(keys)


def _now_datetime():
    from django.utils import timezone

    return timezone.now()


def session_check(request):
    """Sign out a session that was idle too long or has lived past its absolute lifetime; keep the activity stamp.

    Returns a redirect to the sign-in page when the session ended, else None."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return None
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == "public":
        return None
    now = int(time.time())
    auth_at = request.session.get(AUTH_AT)
    seen_at = request.session.get(SEEN_AT)
    if auth_at is None or seen_at is None:
        # A session from before the stamps existed (or a test's force_login): its clocks start now.
        request.session[AUTH_AT] = auth_at or now
        request.session[SEEN_AT] = now
        return None
    idle_limit = security_policy().idle_timeout_minutes * 60
    if now - int(seen_at) > idle_limit or now - int(auth_at) > settings.SESSION_ABSOLUTE_SECONDS:
        session_forget(request.session.session_key)
        logout(request)
        messages.info(request, _("You were signed out after a period without activity. Sign in again."))
        login_url = reverse("accounts:login")
        if request.method == "GET" and not request.headers.get("HX-Request"):
            from urllib.parse import urlencode

            login_url = f"{login_url}?{urlencode({'next': request.get_full_path()})}"
        response = redirect(login_url)
        if request.headers.get("HX-Request"):
            response["HX-Redirect"] = login_url
        return response
    if now - int(seen_at) >= _SEEN_RESOLUTION_SECONDS:
        request.session[SEEN_AT] = now
    return _two_factor_gate(request)


_TWO_FACTOR_OPEN_URLS = (
    "accounts:two_factor_setup",
    "accounts:two_factor_session_verify",
    "accounts:logout",
    "accounts:security",
)


def _two_factor_gate(request):
    """Whether this session may go on, checked on every request, so a tenant turning the requirement on reaches
    sessions opened before it, not only the next sign-in. Where the tenant requires two-factor authentication for
    the person's role, a session that never gave a second factor is sent to set one up (no authenticator yet) or
    to enter a code (one was set up since, perhaps in another browser); only the setup, the code page and signing
    out stay open."""
    from urllib.parse import urlencode

    from commerce_hub.accounts import two_factor

    if request.session.get(two_factor.SESSION_VERIFIED) or not two_factor.two_factor_required_for(request.user):
        return None
    if request.path_info in {reverse(name) for name in _TWO_FACTOR_OPEN_URLS}:
        return None
    if two_factor.user_has_two_factor(request.user):
        messages.warning(
            request, _("Your workspace requires two-factor authentication for your role. Enter a code to continue.")
        )
        target = reverse("accounts:two_factor_session_verify")
        if request.method == "GET" and not request.headers.get("HX-Request"):
            target = f"{target}?{urlencode({'next': request.get_full_path()})}"
    else:
        messages.warning(request, _("Your workspace requires two-factor authentication for your role. Set it up now."))
        target = reverse("accounts:two_factor_setup")
    response = redirect(target)
    if request.headers.get("HX-Request"):
        response["HX-Redirect"] = target
    return response
