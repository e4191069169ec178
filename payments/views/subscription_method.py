"""The buyer's page for a subscription whose automatic charge failed: no login, reached by the subscription's public
token (256 random bits, made when dunning starts; the link is in the dunning emails).

    GET  pay/subscription/<token>/    the subscription, what is open and the method charged now (brand, last four)
    POST pay/subscription/<token>/    a new card (the checkout's own card form and test inputs with the built-in
                                      processor; Stripe.js's PaymentMethod with Stripe): saved with the processor
                                      (SetupIntent), made the subscription's method (billing's service), and every open
                                      past-due invoice is charged with it at once, as the next attempt of its dunning

The form's one-time key makes a double submit save the method once; the charge's key is the invoice's attempt
(subscription-invoice-<id>-try-<n>), so the same attempt is never charged twice, and an invoice paid meanwhile is
not charged at all (payment_charge_saved refuses it under the invoice's lock). Amounts are the server's.
Unknown or another tenant's token: 404 (and a miss counts against the hosted-link guess limit: the path is under
/payments/pay/).
"""

from __future__ import annotations

from decimal import Decimal

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from billing.hosted import hosted_csrf_protect, hosted_headers
from billing.models import Invoice, Subscription, SubscriptionStatus
from billing.selectors.receivables import invoice_figures
from billing.services.subscription_dunning import (
    dunning_attempt_next,
    subscription_open_invoices,
    subscription_payment_method_set,
)
from commerce_hub.idempotency.errors import KeyMissing
from commerce_hub.idempotency.services import key_valid
from commerce_hub.idempotency.web import request_key
from commerce_hub.organization.selectors import organization_profile_get
from payments.forms.checkout import CardForm, StripeCardForm
from payments.models import MethodKind, Payment, ProcessorKey
from payments.processors import ProcessorDeclined
from payments.selectors.payments import method_text
from payments.selectors.settings import payment_settings
from payments.services.saved_methods import payment_method_save
from payments.services.subscription_charges import saved_method_for_ref, subscription_invoice_charge
from payments.views.checkout import SENSITIVE, _stripe_checkout, _test_mode

TOKEN_LENGTH = 43  # secrets.token_urlsafe(32)


def _subscription(token: str) -> Subscription:
    if not (len(token) == TOKEN_LENGTH and token.isascii() and all(c.isalnum() or c in "-_" for c in token)):
        raise Http404
    subscription = Subscription.objects.select_related("contact").filter(public_token=token).first()
    if subscription is None:
        raise Http404
    return subscription


def _language(subscription: Subscription, invoices: list[Invoice]) -> str:
    if invoices:
        return invoices[0].language
    latest = Invoice.objects.filter(subscription=subscription).order_by("-id").values_list("language", flat=True)
    return latest.first() or "en"


def _render(request, subscription: Subscription, *, form=None, error: str = "", status: int = 200) -> HttpResponse:
    invoices = subscription_open_invoices(subscription)
    rows = [(invoice, invoice_figures(invoice).due) for invoice in invoices]
    settings = payment_settings()
    stripe = settings.processor == ProcessorKey.STRIPE
    method = saved_method_for_ref(subscription.payment_method_ref)
    latest = None
    if request.GET.get("updated"):
        latest = (
            Payment.objects.filter(invoice__subscription=subscription, off_session=True)
            .order_by("-created_at", "-pk")
            .first()
        )
    canceled = subscription.status in (SubscriptionStatus.CANCELED, SubscriptionStatus.ENDED)
    email = subscription.contact.email if subscription.contact_id else ""
    context = {
        "subscription": subscription,
        "token": subscription.public_token,
        "rows": rows,
        "amount_open": sum((due for _invoice, due in rows), Decimal(0)),
        "currency": subscription.currency,
        "method_text": method_text(method.kind, method.details) if method else "",
        "latest": latest,
        "updated": bool(request.GET.get("updated")),
        "canceled": canceled,
        "form": form or (None if stripe else CardForm(initial={"email": email})),
        "email": email,
        "error": error,
        "seller_name": organization_profile_get().legal_name,
        "test_mode": _test_mode(settings),
        "builtin": settings.processor == ProcessorKey.BUILTIN,
        "stripe_checkout": _stripe_checkout(settings) if stripe and not canceled else None,
    }
    return render(request, "payments/subscription_method/page.html", context, status=status)


@hosted_csrf_protect
@sensitive_post_parameters(*SENSITIVE)
@require_http_methods(["GET", "POST"])
def subscription_method(request, token: str):
    subscription = _subscription(token)
    with translation.override(_language(subscription, subscription_open_invoices(subscription))):
        response = _post(request, subscription) if request.method == "POST" else _render(request, subscription)
    return hosted_headers(response)


def _post(request, subscription: Subscription) -> HttpResponse:
    if subscription.status in (SubscriptionStatus.CANCELED, SubscriptionStatus.ENDED):
        return _render(request, subscription, error=_("This subscription has ended."), status=400)
    stripe = payment_settings().processor == ProcessorKey.STRIPE
    form = (StripeCardForm if stripe else CardForm)(request.POST)
    key = request_key(request)
    if not key_valid(key):
        return _render(request, subscription, form=None if stripe else form, error=str(KeyMissing.message), status=400)
    if not form.is_valid():
        if stripe:
            return _render(request, subscription, error=" ".join(e for errors in form.errors.values() for e in errors))
        return _render(request, subscription, form=form)
    try:
        saved = payment_method_save(
            company_id=subscription.company_id,
            contact_id=subscription.contact_id,
            method=MethodKind.CARD,
            method_data=form.method_data(),
            attempt_key=f"subscription-method-{key}",
            email=form.cleaned_data["email"],
        )
    except ProcessorDeclined as exc:
        return _render(request, subscription, form=None if stripe else form, error=exc.message)
    subscription = subscription_payment_method_set(subscription=subscription, method_ref=saved.processor_reference)
    # Charged at once, outside any transaction: each open invoice's next attempt, with the new method.
    for invoice in subscription_open_invoices(subscription):
        subscription_invoice_charge(
            invoice=invoice, method=saved, attempt=dunning_attempt_next(invoice), process_now=True
        )
    # Post/redirect/get: reloading the result never posts the card again.
    return redirect(f"{request.path}?updated=1")
