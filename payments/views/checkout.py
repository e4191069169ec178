"""The buyer's checkout for an invoice: no login, reached by the invoice's public token (the hosted invoice page's
Pay button), in the invoice's language.

    GET  pay/<token>/                   what is owed and the methods offered; or the invoice's state when it is paid,
                                        void, or has a payment in flight
    POST pay/<token>/                   one method's form: payment_start with the form's idempotency key as the
                                        attempt key, so a double click, a second submit or a replayed post finds the
                                        first payment instead of making another
    GET  pay/<token>/return/            where a bank, wallet or card-confirmation page sends the buyer back (the
                                        processor adds its payment id, Stripe's `payment_intent`)
    GET  pay/<token>/p/<public_id>/     one payment's state, asked of the processor first
    POST pay/<token>/p/<public_id>/cancel/   give up a payment waiting for the buyer

The amount is never read from the request: payment_start computes the open balance under the invoice's lock.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.hosted import (
    after_payment_url,
    hosted_csrf_protect,
    hosted_document_html,
    hosted_headers,
    hosted_logo_uri,
)
from billing.models import Invoice, InvoiceStatus
from billing.selectors.invoices import document_for_display, invoice_by_token
from billing.selectors.receivables import ZERO, invoice_bucket_balance
from commerce_hub.forms import form_add_errors
from commerce_hub.idempotency.errors import KeyMissing
from commerce_hub.idempotency.services import key_valid
from commerce_hub.idempotency.web import request_key
from payments.forms.checkout import FORMS, CheckoutForm, StripeCardForm
from payments.models import PAYMENT_ACTIVE, MethodKind, Payment, PaymentStatus, ProcessorKey
from payments.selectors.checkout import checkout_methods
from payments.selectors.settings import payment_settings
from payments.services.checkout_emails import payment_method_text
from payments.services.payments import payment_cancel, payment_refresh, payment_start
from payments.services.subscription_charges import checkout_method_save

STRIPE_PARTIAL = "payments/checkout/_stripe.html"
# What the buyer types that must never reach an error report.
SENSITIVE = ("number", "cvc", "expiry", "iban", "routing_number", "account_number")
# A payment's public id ("pay_" and 22 URL-safe characters) and a processor's payment id: anything else is not
# looked up at all (a NUL byte would not even reach the database as a query).
_PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_PROCESSOR_REFERENCE = re.compile(r"^[A-Za-z0-9_]{1,120}$")


# --- lookups ------------------------------------------------------------------------------------------------------


def _invoice(token: str) -> Invoice:
    invoice = invoice_by_token(token)
    if invoice is None:
        raise Http404
    return invoice


def _payment(invoice: Invoice, public_id: str) -> Payment:
    """Only a payment of this invoice: another invoice's or another tenant's id is not found (each tenant's payments
    live in its own schema, and the invoice narrows it further)."""
    if not _PUBLIC_ID.match(public_id):
        raise Http404
    payment = Payment.objects.filter(invoice=invoice, public_id=public_id).first()
    if payment is None:
        raise Http404
    return payment


def _methods_offered(invoice: Invoice, settings) -> list:
    """The invoice's methods this tenant's processor takes on the page: all of them with the built-in processor,
    cards (through Stripe.js) with Stripe."""
    methods = checkout_methods(invoice)
    if settings.processor == ProcessorKey.STRIPE:
        return [m for m in methods if m.key == MethodKind.CARD]
    return methods


def checkout_pay_url(invoice: Invoice) -> str:
    """The checkout of an invoice the buyer can pay online now, or "" (registered with billing.hosted for the hosted
    invoice page's Pay button)."""
    if invoice.status != InvoiceStatus.OPEN or not invoice.public_token:
        return ""
    if not _methods_offered(invoice, payment_settings()):
        return ""
    return reverse("payments:checkout", args=[invoice.public_token])


def _payment_url(invoice: Invoice, payment: Payment) -> str:
    return reverse("payments:checkout_payment", args=[invoice.public_token, payment.public_id])


# --- rendering ----------------------------------------------------------------------------------------------------


def _test_mode(settings) -> bool:
    if settings.processor == ProcessorKey.BUILTIN:
        return True
    return settings.stripe_publishable_key.startswith("pk_test_")


def _stripe_partial() -> str:
    try:
        select_template([STRIPE_PARTIAL])
    except TemplateDoesNotExist:
        return ""
    return STRIPE_PARTIAL


def _stripe_checkout(settings) -> dict | None:
    # Imported here: the Stripe SDK loads only for the tenants that pay through Stripe.
    from payments.services.stripe_connect import stripe_checkout_config

    return stripe_checkout_config(settings)


def _invoice_state(invoice: Invoice, due) -> str:
    if invoice.status == InvoiceStatus.VOID:
        return "void"
    if invoice.status == InvoiceStatus.UNCOLLECTIBLE:
        return "unavailable"
    if due <= 0:
        return "paid"
    return "form"


def _payment_state(payment: Payment) -> str:
    return {
        PaymentStatus.SUCCEEDED: "success",
        PaymentStatus.FAILED: "failure",
        PaymentStatus.CANCELED: "failure",
        PaymentStatus.PROCESSING: "processing",
        PaymentStatus.REQUIRES_ACTION: "action",
        PaymentStatus.CREATED: "pending",
    }[payment.status]


def _render(
    request,
    invoice: Invoice,
    *,
    payment: Payment | None = None,
    bound: CheckoutForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The checkout page in one of its states. With a payment: that payment's state (success, failure, processing,
    waiting for the buyer); without: the invoice's (paid, void, a payment in flight) or the forms."""
    # Only an open invoice owes anything, and then the sum of its ledger bucket (billing's one definition, as
    # balance_due_expression reads it): one small aggregate, where the page needs no other figure of the ledger.
    due = invoice_bucket_balance(invoice) if invoice.status == InvoiceStatus.OPEN else ZERO
    total = invoice.total if invoice.total is not None else ZERO
    invoice_state = _invoice_state(invoice, due)
    if payment is None and invoice_state == "form":
        # Every view of the page asks; a payment is rarely in flight, so only its id is read (a unique constraint
        # allows one per invoice) and the row loads when there is one.
        active = list(
            Payment.objects.filter(invoice=invoice, status__in=PAYMENT_ACTIVE).values_list("pk", flat=True)[:1]
        )
        payment = Payment.objects.filter(pk=active[0]).first() if active else None
        if payment is not None:
            # The buyer may have finished on the bank's page without coming back here.
            payment = payment_refresh(payment=payment)
            if payment.status not in PAYMENT_ACTIVE:
                invoice.refresh_from_db()
                return _render(request, invoice, bound=bound, error=error, status=status)
    state = _payment_state(payment) if payment is not None else invoice_state
    # A failed attempt offers the forms again (fresh keys) when the invoice can still be paid and nothing else is
    # in flight.
    show_forms = state == "form" or (
        state == "failure"
        and invoice_state == "form"
        and not Payment.objects.filter(invoice=invoice, status__in=PAYMENT_ACTIVE).exists()
    )
    settings = payment_settings()
    methods = _methods_offered(invoice, settings) if show_forms else []
    stripe = settings.processor == ProcessorKey.STRIPE
    stripe_partial = _stripe_partial() if stripe else ""
    stripe_waits = state == "action" and payment.next_action.get("type") == "stripe_sdk"
    forms = []
    if show_forms and not stripe:
        for method in methods:
            if bound is not None and bound.method == method.key:
                forms.append((method, bound))
            else:
                forms.append((method, FORMS[method.key](invoice=invoice)))
    open_method = bound.method if bound is not None else (methods[0].key if methods else "")
    document = document_for_display(invoice.snapshot)
    context = {
        "invoice": invoice,
        "token": invoice.public_token,
        "document": document,
        "document_html": hosted_document_html(invoice, document),
        "seller": document.get("seller", {}),
        "logo_uri": hosted_logo_uri(invoice.logo_path),
        "invoice_total": total,
        "amount_due": due,
        "state": state,
        "payment": payment,
        "payment_method_text": payment_method_text(payment) if payment is not None else "",
        "show_forms": show_forms,
        "methods": methods,
        "forms": forms,
        "open_method": open_method,
        "error": error,
        "test_mode": _test_mode(settings),
        "builtin": settings.processor == ProcessorKey.BUILTIN,
        # Stripe.js takes the card, or finishes a confirmation Stripe asks the buyer for.
        "stripe_partial": stripe_partial if methods else "",
        "stripe_action_partial": stripe_partial if stripe_waits else "",
        "stripe_checkout": _stripe_checkout(settings) if stripe else None,
        "today": timezone.localdate(),
    }
    return render(request, "payments/checkout/page.html", context, status=status)


# --- views --------------------------------------------------------------------------------------------------------


@hosted_csrf_protect
@sensitive_post_parameters(*SENSITIVE)
@require_http_methods(["GET", "POST"])
def checkout(request, token: str):
    invoice = _invoice(token)
    with translation.override(invoice.language):
        response = _checkout_post(request, invoice) if request.method == "POST" else _render(request, invoice)
    return hosted_headers(response)


def _checkout_post(request, invoice: Invoice) -> HttpResponse:
    method = request.POST.get("method", "")
    settings = payment_settings()
    if method not in FORMS or method not in {m.key for m in _methods_offered(invoice, settings)}:
        return _render(request, invoice, error=_("Choose one of the payment methods offered."), status=400)
    stripe = settings.processor == ProcessorKey.STRIPE
    form = (StripeCardForm if stripe else FORMS[method])(request.POST, invoice=invoice)
    key = request_key(request)
    if not key_valid(key):
        return _render(request, invoice, bound=form, error=str(KeyMissing.message), status=400)
    if not form.is_valid():
        if stripe:  # Stripe.js's form has no fields of ours to show errors next to
            return _render(request, invoice, error=" ".join(e for errors in form.errors.values() for e in errors))
        return _render(request, invoice, bound=form)
    # Scoped so a key can only ever name a checkout attempt.
    attempt_key = f"checkout-{key}"
    # A checkout that starts a subscription saves the method first, so later periods can be charged with it.
    saved_method = checkout_method_save(
        invoice=invoice,
        method=method,
        method_data=form.method_data(),
        attempt_key=attempt_key,
        email=form.cleaned_data["email"],
    )
    try:
        payment = payment_start(
            invoice=invoice,
            attempt_key=attempt_key,
            method=method,
            method_data=form.method_data(),
            buyer_email=form.cleaned_data["email"],
            buyer_name=form.buyer_name() or _buyer_name(invoice, form.cleaned_data["email"]),
            language=invoice.language,
            return_url=request.build_absolute_uri(reverse("payments:checkout_returned", args=[invoice.public_token])),
            saved_method=saved_method,
        )
    except ValidationError as exc:
        # The same form sent twice at once: the other request made the payment while this one waited for the
        # invoice's lock and was refused. Both show that one payment.
        raced = Payment.objects.filter(attempt_key=attempt_key, invoice=invoice).first()
        if raced is not None:
            return redirect(_payment_url(invoice, raced))
        invoice.refresh_from_db()
        if hasattr(exc, "error_dict"):
            form_add_errors(form, exc)
            return _render(request, invoice, bound=form)
        return _render(request, invoice, bound=form, error=" ".join(exc.messages))
    return _after_start(invoice, payment)


def _buyer_name(invoice: Invoice, email: str) -> str:
    """Who pays when the method asks no name (iDEAL, a wallet): the contact with that email, or the first one, or the
    company."""
    contacts = invoice.contacts.order_by("last_name", "first_name", "id")
    contact = contacts.filter(email__iexact=email).first() or contacts.first()
    return contact.full_name if contact else invoice.snapshot.get("buyer", {}).get("name", "")


def _after_start(invoice: Invoice, payment: Payment) -> HttpResponse:
    if payment.status == PaymentStatus.REQUIRES_ACTION:
        url = str(payment.next_action.get("url", ""))
        if url and urlsplit(url).scheme in ("", "http", "https"):
            return redirect(url)
    # Post/redirect/get: reloading the result page never posts the form again.
    return redirect(_payment_url(invoice, payment))


@require_GET
def checkout_returned(request, token: str):
    """Back from a bank, wallet or card-confirmation page. The processor names its payment (`payment_intent`, as
    Stripe does); a name that is not one of this invoice's payments leads to the checkout, which shows what is in
    flight."""
    invoice = _invoice(token)
    reference = request.GET.get("payment_intent", "")
    payment = None
    if _PROCESSOR_REFERENCE.match(reference):
        payment = Payment.objects.filter(invoice=invoice, processor_reference=reference).first()
    if payment is None:
        return hosted_headers(redirect("payments:checkout", invoice.public_token))
    return hosted_headers(redirect(_payment_url(invoice, payment)))


@require_GET
def checkout_payment(request, token: str, public_id: str):
    invoice = _invoice(token)
    payment = payment_refresh(payment=_payment(invoice, public_id))
    if payment.status == PaymentStatus.SUCCEEDED:
        invoice.refresh_from_db()
        if after := after_payment_url(invoice):  # billing's page after payment: a payment link's thank-you
            return hosted_headers(redirect(after))
    with translation.override(invoice.language):
        response = _render(request, invoice, payment=payment)
    return hosted_headers(response)


@hosted_csrf_protect
@require_POST
def checkout_cancel(request, token: str, public_id: str):
    """The buyer gives up a bank or wallet payment they did not finish, to pay another way."""
    invoice = _invoice(token)
    payment = _payment(invoice, public_id)
    payment_cancel(payment=payment)
    return hosted_headers(redirect("payments:checkout", invoice.public_token))
