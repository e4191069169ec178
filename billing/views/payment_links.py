"""The seller's payment link pages: the index, the builder (settings and, with the shared line item editor, the
lines), the record page (shareable URL, embed button, QR code, purchases and totals) and turning a link off and on.

    GET       payment-links/                 index: name, status, price, purchases and revenue per link
    GET/POST  payment-links/new/             create (then its lines, in the builder)
    GET/POST  payment-links/<pk>/edit/       the builder: settings form and the line item editor
    GET       payment-links/<pk>/            the record page
    GET/POST  payment-links/<pk>/active/     deactivate or activate, after a confirmation
    GET       payment-links/<pk>/qr.<fmt>    the link's QR code, PNG or SVG, as a download
"""

from __future__ import annotations

import io

import segno
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from billing.documents import invoice_settings_get
from billing.editor import owner_for
from billing.forms.payment_links import PaymentLinkForm
from billing.models import PaymentLink
from billing.selectors.payment_links import (
    payment_link_index,
    payment_link_lines,
    payment_link_pricing,
    payment_link_purchases,
    payment_link_revenue_by_currency,
    payment_link_totals,
    price_summary,
)
from billing.services.payment_links import (
    payment_link_create,
    payment_link_set_active,
    payment_link_update,
    values_of,
)
from billing.views.line_items import editor_context
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.organization.selectors import organization_profile_cached
from commerce_hub.pagination import query_string_without
from commerce_hub.site_urls import current_tenant_url

VIEW = "accounts.view_payments"
MANAGE = "accounts.manage_payments"
NAV = "payment-links"
EMBED_STYLE = (
    "display:inline-block;padding:12px 24px;border-radius:6px;background:{color};color:#ffffff;"
    "font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;font-size:16px;font-weight:600;"
    "text-decoration:none;line-height:1.2"
)
DEFAULT_ACCENT = "#0f766e"


def _link(request, pk: int, perm: str = VIEW) -> PaymentLink:
    return get_for_user(request.user, PaymentLink.objects.select_related("created_by"), perm, pk=pk)


def payment_link_url(link: PaymentLink) -> str:
    """The shareable URL, on the tenant's configured domain (never the Host header of whoever is looking)."""
    return current_tenant_url(reverse("billing:payment_link_hosted", args=[link.public_token]))


def _accent() -> str:
    color = (organization_profile_cached().accent_color or "").strip()
    if len(color) in (4, 7) and color.startswith("#") and all(c in "0123456789abcdefABCDEF" for c in color[1:]):
        return color
    return DEFAULT_ACCENT


def embed_snippet(link: PaymentLink, url: str) -> str:
    """A plain HTML button for websites and emails: an <a> with inline style, every value escaped. Returned as
    plain text (not marked safe), so a page showing the code escapes it once more."""
    return "".join(
        format_html(
            '<a href="{}" target="_blank" rel="noopener" style="{}">{}</a>',
            url,
            EMBED_STYLE.format(color=_accent()),
            _("Buy %(name)s") % {"name": link.name} if len(link.name) <= 40 else _("Buy now"),
        )
    )


# --- the index --------------------------------------------------------------------------------------------------------


@require_perm(VIEW)
@require_GET
def payment_link_list(request):
    status = request.GET.get("status", "")
    status = status if status in ("active", "inactive") else ""
    page, rows = payment_link_index(cursor=request.GET.get("after"), status=status)
    context = {
        "active_nav": NAV,
        "page": page,
        "rows": rows,
        "status": status,
        "totals": payment_link_revenue_by_currency() if page.is_first and not status else [],
        "query": query_string_without(request.GET, "after"),
        "can_manage": request.user.has_perm(MANAGE),
    }
    return render(request, "billing/payment_links/index.html", context)


# --- the builder ------------------------------------------------------------------------------------------------------


def _initial() -> dict:
    profile = organization_profile_cached()
    return {
        "currency": profile.default_currency or "EUR",
        "language": "en",
        "payment_methods": list(invoice_settings_get().payment_methods),
        "min_quantity": 1,
        "max_quantity": 99,
        "after_payment": "message",
    }


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def payment_link_new(request):
    form = PaymentLinkForm(request.POST or None, initial=_initial())
    if request.method == "POST" and form.is_valid():
        try:
            link = payment_link_create(values=form.values(), actor=request.user)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Payment link created. Now add what it sells."))
            return redirect(f"{reverse('billing:payment_link_edit', args=[link.pk])}#lines")
    status = 422 if request.method == "POST" else 200
    return render(request, "billing/payment_links/form.html", {"form": form, "active_nav": NAV}, status=status)


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def payment_link_edit(request, pk: int):
    link = _link(request, pk, MANAGE)
    if request.method == "POST":
        form = PaymentLinkForm(request.POST)
        if form.is_valid():
            try:
                payment_link_update(link=link, values=form.values(), actor=request.user)
            except ValidationError as exc:
                form_add_errors(form, exc)
            else:
                messages.success(request, _("Payment link saved."))
                return redirect("billing:payment_link_detail", link.pk)
    else:
        form = PaymentLinkForm(initial=vars(values_of(link)))
    owner = owner_for("payment_link", link)
    context = editor_context(request, owner, title=link.name) | {
        "form": form,
        "link": link,
        "active_nav": NAV,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "billing/payment_links/form.html", context, status=status)


# --- the record page --------------------------------------------------------------------------------------------------


@require_perm(VIEW)
@require_GET
def payment_link_detail(request, pk: int):
    link = _link(request, pk)
    url = payment_link_url(link)
    lines = payment_link_lines(link)
    try:
        priced = payment_link_pricing(link, quantity=1, lines=lines) if lines else None
    except ValueError:
        priced = None
    context = {
        "active_nav": NAV,
        "link": link,
        "url": url,
        "embed": embed_snippet(link, url),
        "qr_data_uri": segno.make(url, error="m").png_data_uri(scale=5, border=2),
        "lines": lines,
        "prices": price_summary(link, lines),
        "priced": priced,
        "page": payment_link_purchases(link, cursor=request.GET.get("after")),
        "query": query_string_without(request.GET, "after"),
        "totals": payment_link_totals(link),
        "can_manage": request.user.has_perm(MANAGE),
    }
    return render(request, "billing/payment_links/detail.html", context)


@require_perm(VIEW)
@require_GET
def payment_link_qr(request, pk: int, fmt: str):
    link = _link(request, pk)
    if fmt not in ("png", "svg"):
        raise Http404
    buffer = io.BytesIO()
    qr = segno.make(payment_link_url(link), error="m")
    if fmt == "png":
        qr.save(buffer, kind="png", scale=10, border=4)
        content_type = "image/png"
    else:
        qr.save(buffer, kind="svg", scale=10, border=4, xmldecl=False)
        content_type = "image/svg+xml"
    response = HttpResponse(buffer.getvalue(), content_type=content_type)
    filename = f"payment-link-{slugify(link.name)[:60] or link.pk}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def payment_link_active(request, pk: int):
    """Deactivate or activate, after a confirmation page (the POST names the state it asks for, so a stale page
    sent twice changes nothing)."""
    link = _link(request, pk, MANAGE)
    if request.method == "POST":
        wanted = request.POST.get("active")
        if wanted not in ("0", "1"):
            return redirect("billing:payment_link_detail", link.pk)
        link = payment_link_set_active(link=link, active=wanted == "1", actor=request.user)
        if link.active:
            messages.success(request, _("The payment link is active: buyers can pay through it again."))
        else:
            messages.success(request, _("The payment link is inactive: it takes no more payments."))
        return redirect("billing:payment_link_detail", link.pk)
    totals = payment_link_totals(link)
    return render(
        request, "billing/payment_links/confirm_active.html", {"link": link, "totals": totals, "active_nav": NAV}
    )
