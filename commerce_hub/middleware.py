import logging
import re
import uuid
import zoneinfo

from django.utils import timezone, translation

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
