"""The buyer's payment link pages: no login, the link's unguessable token in the URL, in the link's language.

    GET   l/<token>/                     what the link sells and the buyer's form; ?quantity=n prices another
                                         quantity (htmx swaps the summary); an inactive link's page says so
    POST  l/<token>/                     the purchase (billing.services.payment_link_checkout), once per form key,
                                         then on to the payments checkout of its invoice
    GET   l/<token>/done/<public_id>/    after payment: the link's thank-you message, or on to its redirect URL

Every amount is the server's: nothing the buyer posts but the quantity is priced, and that within the link's
bounds. A token that is not a link answers 404 (and counts as a guess: commerce_hub's HostedTokenGuardMiddleware).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from billing import pricing
from billing.documents import current_logo_path, document_figures
from billing.forms.payment_links import PurchaseForm
from billing.hosted import hosted_csrf_protect, hosted_logo_uri, pay_url_for
from billing.models import InvoiceStatus, PaymentLink, PaymentLinkPurchase
from billing.models.payment_links import AfterPayment, PurchaseStatus
from billing.selectors.payment_links import (
    payment_link_by_token,
    payment_link_lines,
    payment_link_pricing,
    payment_link_purchase_by_public_id,
)
from billing.services.payment_link_checkout import PaymentLinkInactive, payment_link_purchase_start
from billing.views.quote_hosted import hosted_view
from commerce_hub.forms import form_add_errors
from commerce_hub.idempotency.web import idempotent
from commerce_hub.organization.selectors import organization_profile_get


def _link(token: str) -> PaymentLink:
    link = payment_link_by_token(token)
    if link is None:
        raise Http404
    return link


def _hosted_url(link: PaymentLink) -> str:
    return reverse("billing:payment_link_hosted", args=[link.public_token])


def _done_url(purchase: PaymentLinkPurchase) -> str:
    return reverse("billing:payment_link_done", args=[purchase.link.public_token, purchase.public_id])


def _seller() -> dict:
    profile = organization_profile_get()
    return {"legal_name": profile.legal_name, "logo_uri": hosted_logo_uri(current_logo_path())}


def _quantity(link: PaymentLink, raw) -> int:
    """The quantity to price: what the buyer typed when it is within the link's bounds, else the minimum."""
    if not link.adjustable_quantity:
        return 1
    try:
        quantity = int(str(raw).strip())
    except (TypeError, ValueError):
        return link.min_quantity
    return quantity if link.min_quantity <= quantity <= link.max_quantity else link.min_quantity


def _pricing_context(link: PaymentLink, quantity: int) -> dict:
    lines = payment_link_lines(link)
    if not lines:
        return {"priced": None, "figures": None, "nothing_to_buy": True}
    try:
        priced = payment_link_pricing(link, quantity=quantity, lines=lines)
    except pricing.PricingError:
        return {"priced": None, "figures": None, "pricing_error": True}
    figures = document_figures(priced.lines_today, priced.today) if priced.today is not None else None
    return {"priced": priced, "figures": figures}


def _page(request, link: PaymentLink, form: PurchaseForm, *, status: int = 200):
    raw = form.data.get("quantity") if form.is_bound else request.GET.get("quantity")
    quantity = _quantity(link, raw)
    context = {
        "link": link,
        "form": form,
        "quantity": quantity,
        "seller": _seller(),
        "action_url": _hosted_url(link),
        **_pricing_context(link, quantity),
    }
    if request.htmx and request.method == "GET":
        return render(request, "billing/payment_links/_hosted_summary.html", context)
    return render(request, "billing/payment_links/hosted.html", context, status=status)


def _inactive(request, link: PaymentLink, *, status: int = 200):
    return render(
        request, "billing/payment_links/hosted_inactive.html", {"link": link, "seller": _seller()}, status=status
    )


def _params(cleaned: dict) -> dict:
    return {key: value for key, value in cleaned.items() if value not in (None, "")}


def _after_purchase_url(purchase: PaymentLinkPurchase) -> str:
    """The payments checkout of the purchase's invoice while it can be paid online; else the thank-you page (paid
    already, or nothing to pay) or the invoice's own page (bank transfer only)."""
    invoice = purchase.invoice
    if invoice is None or invoice.status != InvoiceStatus.OPEN:
        return _done_url(purchase)
    return pay_url_for(invoice) or reverse("billing:invoice_hosted", args=[invoice.public_token])


@hosted_view
@hosted_csrf_protect
@require_http_methods(["GET", "POST"])
def payment_link_hosted(request, token: str):
    link = _link(token)
    with translation.override(link.language):
        if not link.active:
            return _inactive(request, link, status=409 if request.method == "POST" else 200)
        if request.method != "POST":
            return _page(request, link, PurchaseForm(link=link))
        form = PurchaseForm(request.POST, link=link)
        if form.is_valid():
            try:
                with idempotent(
                    request,
                    scope="payment_link.purchase",
                    target=link,
                    params=_params(form.cleaned_data),
                    retry_url=_hosted_url(link),
                ) as claim:
                    if claim.replay:
                        return claim.replay
                    purchase = payment_link_purchase_start(link=link, buyer=form.buyer())
                    return claim.done(redirect(_after_purchase_url(purchase)))
            except PaymentLinkInactive:
                # Deactivated while the buyer was on the page: nothing was bought.
                return _inactive(request, link, status=409)
            except ValidationError as exc:
                form_add_errors(form, exc)
        return _page(request, link, form, status=422)


@hosted_view
@require_GET
def payment_link_done(request, token: str, public_id: str):
    link = _link(token)
    purchase = payment_link_purchase_by_public_id(link, public_id)
    if purchase is None:
        raise Http404
    invoice = purchase.invoice
    paid = purchase.status == PurchaseStatus.PAID or (invoice is not None and invoice.status == InvoiceStatus.PAID)
    if paid and link.after_payment == AfterPayment.REDIRECT and link.redirect_url:
        return redirect(link.redirect_url)
    if paid:
        state = "paid"
    elif invoice is not None and invoice.status == InvoiceStatus.OPEN:
        state = "open"
    else:
        state = "closed"
    with translation.override(link.language):
        context = {
            "link": link,
            "purchase": purchase,
            "invoice": invoice,
            "state": state,
            "seller": _seller(),
            "pay_url": pay_url_for(invoice) if state == "open" else "",
            "invoice_url": (
                reverse("billing:invoice_hosted", args=[invoice.public_token])
                if invoice is not None and invoice.public_token and state == "paid"
                else ""
            ),
            "default_message": _("Thank you for your purchase!"),
        }
        return render(request, "billing/payment_links/done.html", context)
