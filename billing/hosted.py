"""What the buyer's hosted pages share: their response headers, the seller's logo inlined, and the seam through which
an app above billing (payments) offers online payment on the hosted invoice page without billing importing it."""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Callable
from functools import wraps

from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from billing.models import Invoice

# fn(invoice) -> the URL of a page where the buyer pays the invoice online, or "" when it cannot be paid there.
_pay_url: Callable[[Invoice], str] | None = None


def register_pay_url(fn: Callable[[Invoice], str]) -> None:
    global _pay_url
    _pay_url = fn


def pay_url_for(invoice: Invoice) -> str:
    return _pay_url(invoice) if _pay_url is not None else ""


def hosted_headers(response: HttpResponse) -> HttpResponse:
    # The URL is the only key to the document: never cache it anywhere, never leak it to another site.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def hosted_logo_uri(path: str) -> str:
    """The logo the invoice was finalized with, inlined: hosted pages serve no tenant media by URL."""
    if not path or not default_storage.exists(path):
        return ""
    with default_storage.open(path, "rb") as fh:
        content = fh.read()
    kind = mimetypes.guess_type(path)[0] or "image/png"
    return f"data:{kind};base64,{base64.b64encode(content).decode()}"


def hosted_csrf_protect(view):
    """CSRF protection for a form on a buyer page. The page is sent with Referrer-Policy: no-referrer, so browsers
    post its forms with `Origin: null` (the policy withholds even the origin), which Django's origin check refuses
    before it looks at the token. Here a null origin counts as this site's own: the CSRF token (the cookie and the
    form's field) is still required, and any other foreign origin is still refused."""
    protected = csrf_protect(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.META.get("HTTP_ORIGIN") == "null":
            request.META["HTTP_ORIGIN"] = f"{request.scheme}://{request.get_host()}"
        return protected(request, *args, **kwargs)

    return csrf_exempt(wrapped)
