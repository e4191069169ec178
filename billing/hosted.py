"""What the buyer's hosted pages share: their response headers, the seller's logo inlined, and the seam through which
an app above billing (payments) offers online payment on the hosted invoice page without billing importing it."""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
from collections.abc import Callable
from functools import wraps

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from billing.models import Invoice

DOCUMENT_TEMPLATE = "billing/invoices/_document.html"
# A finalized invoice's fragment never goes stale (see hosted_document_html); the timeout only bounds how long a
# change in the money or date formatting code takes to reach fragments rendered before a deploy.
DOCUMENT_CACHE_SECONDS = 24 * 60 * 60

# fn(invoice) -> the URL of a page where the buyer pays the invoice online, or "" when it cannot be paid there.
_pay_url: Callable[[Invoice], str] | None = None


def register_pay_url(fn: Callable[[Invoice], str]) -> None:
    global _pay_url
    _pay_url = fn


def pay_url_for(invoice: Invoice) -> str:
    return _pay_url(invoice) if _pay_url is not None else ""


# fn(invoice) -> the URL of a billing page the buyer continues to once `invoice` is paid online (a payment link's
# thank-you page, or its redirect), or "" when the payment page's own confirmation is the end. Billing's features
# register these; the payments app's checkout asks after_payment_url when a payment succeeded.
_after_payment: list[Callable[[Invoice], str]] = []


def register_after_payment_url(fn: Callable[[Invoice], str]) -> None:
    if fn not in _after_payment:
        _after_payment.append(fn)


def after_payment_url(invoice: Invoice) -> str:
    for fn in _after_payment:
        url = fn(invoice)
        if url:
            return url
    return ""


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


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def hosted_document_html(invoice: Invoice, document: dict) -> SafeString:
    """A finalized invoice's lines, VAT and totals (templates/billing/invoices/_document.html, given `document`, the
    snapshot made readable by document_for_display) in the active language, rendered once per invoice, language and
    snapshot and then read from the cache (the tenant-aware key function adds the schema to the key).

    The snapshot of a finalized invoice never changes (a trigger freezes it), so a fragment cannot go stale. The
    snapshot's digest in the key still keeps apart two invoices with one primary key (a database recreated under the
    same cache), and the template's digest the fragments of a template a deploy changed."""
    template = get_template(DOCUMENT_TEMPLATE)
    if not invoice.snapshot:
        return template.render({"document": document})
    snapshot = json.dumps(invoice.snapshot, sort_keys=True, separators=(",", ":"), default=str)
    key = ":".join(
        (
            "invoice-document",
            str(invoice.pk),
            get_language() or "",
            _digest(snapshot),
            _digest(template.template.source),
        )
    )
    html = cache.get(key)
    if html is None:
        html = template.render({"document": document})
        cache.set(key, str(html), DOCUMENT_CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 - the template rendered it (autoescaped); the cache only kept it


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
