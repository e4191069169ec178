"""The buyer's Pay button on the hosted quote page (no login, the publication's unguessable token in the URL).

    POST q/<token>/checkout/   issue the quote's checkout invoice once (billing.services.quote_checkout) and send the
                               buyer to its payment page; every amount is the server's, nothing posted is read

The button itself is an action of the hosted page (billing.quote_hosted_actions): pay_action below.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.views.decorators.http import require_POST

from billing import pricing
from billing.hosted import hosted_csrf_protect, hosted_headers, pay_url_for
from billing.models import Invoice, InvoiceStatus, Quote, QuotePublication, QuoteStatus
from billing.quote_payment_plan import checkout_plan, quote_payable_problem
from billing.selectors.receivables import invoice_bucket_balance
from billing.services.quote_checkout import quote_checkout_start

PAY_ACTION_TEMPLATE = "billing/quotes/_pay_action.html"
# A publication's token: URL-safe base64 of at least 128 random bits. Anything else is not looked up at all.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def _publication(token: str) -> QuotePublication:
    if not _TOKEN.match(token):
        raise Http404
    publication = QuotePublication.objects.select_related("quote").filter(token=token).first()
    if publication is None:
        raise Http404
    return publication


def _hosted_quote_url(publication: QuotePublication) -> str:
    """The hosted quote page (the publishing feature's route), or "" while it has none."""
    try:
        return reverse("billing:quote_hosted", args=[publication.token])
    except NoReverseMatch:
        return ""


def _invoice_page_url(invoice: Invoice) -> str:
    return reverse("billing:invoice_hosted", args=[invoice.public_token])


@hosted_csrf_protect
@require_POST
def quote_checkout(request, token: str):
    publication = _publication(token)
    quote = publication.quote
    with translation.override(quote.language):
        try:
            invoice = quote_checkout_start(quote=quote, publication=publication)
        except ValidationError as exc:
            response = render(
                request,
                "billing/quotes/checkout_refused.html",
                {"quote": quote, "messages_list": exc.messages, "back_url": _hosted_quote_url(publication)},
                status=409,
            )
            return hosted_headers(response)
    # The payments app's checkout when the invoice can be paid online now; else its hosted page (paid by the
    # customer's credit already, or bank transfer only).
    return hosted_headers(redirect(pay_url_for(invoice) or _invoice_page_url(invoice)))


def pay_action(quote: Quote, publication: QuotePublication):
    """The hosted page's payment area: a Pay button with what is due now, a note to sign first, or the paid
    invoice. None for a quote that collects no payment (or a page that is no longer live: the page says so)."""
    if not quote.payment_enabled:
        return None
    context = {"quote": quote, "currency": quote.currency}
    if quote.status == QuoteStatus.PAID:
        invoice = Invoice.objects.filter(pk=quote.checkout_invoice_id).first()
        return PAY_ACTION_TEMPLATE, {**context, "state": "paid", "invoice_url": _url_of(invoice)}
    problem = quote_payable_problem(quote, publication)
    if problem and quote.status not in (QuoteStatus.PUBLISHED, QuoteStatus.VIEWED):
        return None
    amount = None
    installment = None
    invoice = Invoice.objects.filter(pk=quote.checkout_invoice_id).first() if quote.checkout_invoice_id else None
    if invoice is not None:
        amount = invoice_bucket_balance(invoice) if invoice.status == InvoiceStatus.OPEN else None
    else:
        try:
            plan = checkout_plan(quote)
            amount, installment = plan.total, plan.installment
        except (pricing.PricingError, ValidationError):
            return None
    return PAY_ACTION_TEMPLATE, {
        **context,
        "state": "sign_first" if problem else "pay",
        "message": problem,
        "amount": amount,
        "installment": installment,
        "action_url": reverse("billing:quote_checkout", args=[publication.token]),
    }


def _url_of(invoice: Invoice | None) -> str:
    return _invoice_page_url(invoice) if invoice is not None and invoice.public_token else ""
