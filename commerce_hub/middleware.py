import logging
import re
import time
import uuid
import zoneinfo

from django.utils import timezone, translation
from django.utils.cache import patch_cache_control

from commerce_hub import request_context
from commerce_hub.request_context import client_ip

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives every request an id (or keeps a well-formed X-Request-ID), for logs and the audit trail."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        token = request_context.set_current(request_context.RequestContext(request.id, client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            request_context.reset(token)
        response["X-Request-ID"] = request.id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record):
        record.request_id = request_context.current().request_id or "-"
        return True


class UserPreferencesMiddleware:
    """Activates the signed-in user's language and the tenant's timezone for this request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        tz_name = _tenant_timezone(request)
        if tz_name:
            timezone.activate(zoneinfo.ZoneInfo(tz_name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def _tenant_timezone(request) -> str | None:
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.schema_name == "public":
        return None
    from commerce_hub.organization.selectors import organization_profile_cached

    # Kept for the rest of the request: the shell context processor draws the page from it (one cache read).
    request.organization_profile = organization_profile_cached()
    return request.organization_profile.timezone


class NoStoreMiddleware:
    """Cache-Control: no-store on every page a signed-in person sees and on every PDF and CSV download, so no
    browser or proxy cache keeps invoices, customers or exports after the session ends (shared computers, the
    back button after signing out)."""

    DOWNLOAD_TYPES = ("application/pdf", "text/csv")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
        if "no-store" in response.get("Cache-Control", ""):
            return response  # already says it (hosted pages set exactly "no-store")
        if (user is not None and user.is_authenticated) or content_type in self.DOWNLOAD_TYPES:
            patch_cache_control(response, no_store=True, private=True)
            response.headers.pop("Expires", None)
        return response


class SessionLifetimeMiddleware:
    """Ends a signed-in session after the tenant's idle timeout and after the absolute lifetime since sign-in.

    The sign-in time and the last activity live in the session itself (stamped on login by the accounts app); the
    activity stamp is written at most once a minute, so reading pages does not write the session on every request.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from commerce_hub.accounts.sessions import session_check

        redirect_response = session_check(request)
        if redirect_response is not None:
            return redirect_response
        return self.get_response(request)


class HostedTokenGuardMiddleware:
    """Rate-limits guesses of hosted links (invoice, quote and checkout pages) per client address.

    Only misses count: a token that does not exist answers 404 and counts against the address; past the limit the
    address gets 429 for every hosted link until the window ends, before the view runs. Buyers opening a real link
    never count."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        from commerce_hub.accounts.ratelimit import ratelimit_give_back, ratelimit_hit, too_many_requests

        prefixes = tuple(getattr(settings, "HOSTED_TOKEN_PATH_PREFIXES", ()))
        if not prefixes or not request.path_info.startswith(prefixes):
            return self.get_response(request)
        ip = client_ip(request) or "-"
        # Every request is counted before the view runs (one atomic increment), and a hit is given back once the
        # link turns out to exist: checking first and counting after the miss let 32 concurrent guesses through a
        # limit of 30, as each one read the count before any of them had added to it.
        now = time.time()  # the give-back must land in the window the hit was counted in
        verdict = ratelimit_hit(name="hosted_token", keys=[ip], now=now)
        if not verdict.allowed:
            return too_many_requests(request, name="hosted_token", retry_after=verdict.retry_after)
        response = self.get_response(request)
        if response.status_code not in (404, 410):
            ratelimit_give_back(name="hosted_token", keys=[ip], now=now)
        if request.path_info.startswith(tuple(getattr(settings, "CSP_FORM_ACTION_HTTPS_PREFIXES", ()))):
            # A checkout form's answer may redirect to the payment processor or the buyer's bank (3-D Secure,
            # iDEAL through Stripe), which form-action 'self' would stop: these pages allow any https target.
            response._csp_update = {**(getattr(response, "_csp_update", None) or {}), "form-action": ["https:"]}
        return response
