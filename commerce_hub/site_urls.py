"""Absolute links into a tenant's site, for emails and anything else read outside a request. Low in the platform
so that every package (tenancy, events, billing) can build them without importing one another."""

from django.conf import settings
from django.db import connection


def tenant_url(domain: str, path: str = "/") -> str:
    port = settings.SITE_PORT
    default_port = {"http": "80", "https": "443"}.get(settings.SITE_SCHEME)
    host = domain if not port or port == default_port else f"{domain}:{port}"
    return f"{settings.SITE_SCHEME}://{host}{path}"


def current_tenant_url(path: str = "/") -> str:
    """An absolute link into the tenant this request or task runs in."""
    return tenant_url(connection.tenant.get_primary_domain().domain, path)
