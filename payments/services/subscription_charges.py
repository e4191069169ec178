"""Charging subscriptions automatically: payments' half of billing's collection seam and of dunning.

    subscription_invoices_charge   the collector billing's run and its retry job call (billing.subscription_collection)
                                   after their transaction committed: for each invoice, the subscription's saved
                                   method (by its reference, all loaded in one query) is charged off-session for attempt
                                   n = failures + 1 with the key f"subscription-invoice-{invoice}-try-{n}", so a run
                                   started again finds its attempt instead of charging twice. A method that is gone or
                                   detached is a failed attempt with that reason.
    payment.failed handler         an off-session attempt of a subscription invoice failed: billing's dunning records
                                   it (once per attempt number). Success needs nothing here: the payment marks the
                                   invoice paid, and billing's invoice.paid event recovers the case, as every other way
                                   of paying does.
    checkout_method_save           a checkout that starts a subscription (a quote or a payment link with recurring
                                   lines) saves the buyer's card with the processor first (SetupIntent), and the
                                   payment names it; checkout_payment_method_ref tells billing which method the paid
                                   checkout left, so the subscriptions it creates charge it automatically.

A saved method is named across the seam by its processor reference (the built-in processor's bi_pm_..., Stripe's
pm_...): unique per processor, stable, and meaningless without the tenant's processor account.
"""

from __future__ import annotations

import logging
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from billing.models import DunningStatus, Invoice, LineItem, Subscription
from billing.models.choices import Frequency
from billing.services.subscription_dunning import dunning_charge_failed, dunning_sync
from commerce_hub.site_urls import current_tenant_url
from payments.models import MethodKind, Payment, PaymentStatus, SavedPaymentMethod
from payments.processors import ProcessorDeclined
from payments.services.payments import payment_charge_saved, payment_process
from payments.services.saved_methods import payment_method_save

logger = logging.getLogger(__name__)

ATTEMPT_KEY = re.compile(r"^subscription-invoice-(\d+)-try-(\d+)$")
# Methods a checkout can save for later charges (the built-in processor saves cards; Stripe cards and debits).
SAVABLE = (MethodKind.CARD, MethodKind.SEPA_DEBIT)


def attempt_key(invoice_id: int, attempt: int) -> str:
    return f"subscription-invoice-{invoice_id}-try-{attempt}"


def saved_method_for_ref(ref: str) -> SavedPaymentMethod | None:
    if not ref:
        return None
    return SavedPaymentMethod.objects.filter(processor_reference=ref, detached_at__isnull=True).first()


# --- the collector ----------------------------------------------------------------------------------------------------


def subscription_invoices_charge(*, invoice_ids: list[int], retry: bool = False) -> list[Payment]:
    """Charge these finalized subscription invoices with their subscriptions' saved methods. Safe to run again: each
    attempt's key is derived from the invoice and the attempt number. The billing run's call (`retry` False) charges
    the first attempt only: an invoice already in dunning is the retry job's (`retry` True), which charges the next
    attempt of a case still retrying. Returns the attempts made or found."""
    invoices = list(
        Invoice.objects.filter(pk__in=list(invoice_ids), subscription__isnull=False)
        .select_related("subscription", "dunning")
        .order_by("pk")
    )
    refs = {invoice.subscription.payment_method_ref for invoice in invoices if invoice.subscription.payment_method_ref}
    methods = {
        method.processor_reference: method
        for method in SavedPaymentMethod.objects.filter(processor_reference__in=refs, detached_at__isnull=True)
    }
    payments = []
    for invoice in invoices:
        dunning = _dunning(invoice)
        if (dunning is not None) != retry or (retry and dunning.status != DunningStatus.ACTIVE):
            continue
        attempt = (dunning.failures if dunning is not None else 0) + 1
        payment = subscription_invoice_charge(
            invoice=invoice, method=methods.get(invoice.subscription.payment_method_ref), attempt=attempt
        )
        if payment is not None:
            payments.append(payment)
    return payments


def subscription_invoices_retry(*, invoice_ids: list[int]) -> list[Payment]:
    """The dunning retry job's charger: the next attempt of each invoice's case."""
    return subscription_invoices_charge(invoice_ids=invoice_ids, retry=True)


def _dunning(invoice: Invoice):
    try:
        return invoice.dunning
    except Invoice.dunning.RelatedObjectDoesNotExist:
        return None


def subscription_invoice_charge(
    *, invoice: Invoice, method: SavedPaymentMethod | None, attempt: int, process_now: bool = False
) -> Payment | None:
    """Attempt `attempt` of one invoice. payment_charge_saved commits the attempt (under the invoice's lock, where it
    also refuses an invoice with nothing left to pay) and a worker charges it; `process_now` charges it here too (the
    buyer is waiting on their page: the queued run then finds it done)."""
    if method is None:
        dunning_charge_failed(
            invoice_id=invoice.pk,
            attempt=attempt,
            code="payment_method_missing",
            message="The saved payment method is no longer available.",
        )
        return None
    key = attempt_key(invoice.pk, attempt)
    try:
        payment = payment_charge_saved(invoice=invoice, saved_method=method, attempt_key=key)
    except IntegrityError:
        # Another run made this attempt while we waited for the invoice's lock: it is that run's to charge.
        return Payment.objects.filter(attempt_key=key).first()
    except ValidationError:
        # Nothing left to pay (paid, void, written off meanwhile) or a payment in flight: no charge. A case whose
        # invoice owes nothing is closed; one with a payment in flight waits for that payment's outcome.
        dunning_sync(invoice_id=invoice.pk)
        return None
    if payment.status == PaymentStatus.FAILED:
        # Found, not made: this attempt failed before (its report may still be on its way): record it now.
        _failure_report(payment)
    elif process_now:
        payment = payment_process(payment_id=payment.pk) or payment
        if payment.status == PaymentStatus.FAILED:
            _failure_report(payment)  # now, for the page the buyer waits on; the event's handler then does nothing
    return payment


# --- outcomes -----------------------------------------------------------------------------------------------------


def _failure_report(payment: Payment) -> None:
    match = ATTEMPT_KEY.match(payment.attempt_key or "")
    if match is None or not payment.invoice_id:
        return
    dunning_charge_failed(
        invoice_id=int(match.group(1)),
        attempt=int(match.group(2)),
        code=payment.failure_code,
        message=payment.failure_message,
    )


def subscription_payment_failed(*, payment_id: int) -> None:
    """payment.failed: an automatic charge of a subscription invoice goes to dunning (once per attempt)."""
    payment = Payment.objects.filter(pk=payment_id, status=PaymentStatus.FAILED, off_session=True).first()
    if payment is not None:
        _failure_report(payment)


# --- saving the method at checkout ------------------------------------------------------------------------------------


def invoice_starts_subscription(invoice: Invoice) -> bool:
    """Whether paying this checkout invoice starts a subscription: a quote's checkout or a payment link purchase
    with recurring lines."""
    recurring = LineItem.objects.exclude(frequency=Frequency.ONE_TIME)
    if recurring.filter(quote__checkout_invoice=invoice).exists():
        return True
    return recurring.filter(payment_link__purchases__invoice=invoice).exists()


def checkout_method_save(
    *, invoice: Invoice, method: str, method_data: dict, attempt_key: str, email: str = ""
) -> SavedPaymentMethod | None:
    """Save the buyer's method for the subscription this checkout starts, before it is charged; None when the
    invoice starts none or the processor cannot save this method (the subscription then sends invoices)."""
    if method not in SAVABLE or not invoice_starts_subscription(invoice):
        return None
    contact_id = invoice.contacts.order_by("last_name", "first_name", "id").values_list("id", flat=True).first()
    try:
        return payment_method_save(
            company_id=invoice.company_id,
            contact_id=contact_id,
            method=method,
            method_data=method_data,
            attempt_key=attempt_key,
            email=email,
        )
    except ProcessorDeclined as exc:
        logger.info("checkout method not saved for invoice %s: %s", invoice.pk, exc.code)
        return None


def checkout_payment_method_ref(*, invoice: Invoice, quote=None) -> str:
    """billing's resolver (subscription_payment_method_register): the method the checkout that paid `invoice` saved,
    by its processor reference, or ""."""
    return (
        Payment.objects.filter(
            invoice=invoice,
            status=PaymentStatus.SUCCEEDED,
            saved_method__isnull=False,
            saved_method__detached_at__isnull=True,
        )
        .order_by("-succeeded_at", "-pk")
        .values_list("saved_method__processor_reference", flat=True)
        .first()
        or ""
    )


def subscription_method_page_url(subscription: Subscription) -> str:
    """The buyer's page where they update the subscription's payment method (for dunning emails)."""
    return current_tenant_url(reverse("payments:subscription_method", args=[subscription.public_token]))


def tenant_in_test_mode() -> bool:
    """Whether the tenant takes test money only (the built-in processor, or Stripe with test keys): only then may
    an admin simulate time on a subscription."""
    from payments.processors import processor_for_tenant

    return bool(processor_for_tenant().test_mode)


def register() -> None:
    """Called once from PaymentsConfig.ready(): payments collects subscription invoices, names the method a checkout
    saved, gives dunning emails the buyer's page, and hands failed automatic charges to dunning."""
    from billing.selectors.subscription_record import subscription_panel_register
    from billing.services.subscription_clock import subscription_test_mode_register
    from billing.services.subscription_dunning import dunning_method_url_register, dunning_retry_charger_register
    from billing.services.subscriptions import subscription_payment_method_register
    from billing.subscription_collection import subscription_collector_register
    from commerce_hub.events.registry import handler
    from payments import events

    subscription_collector_register(subscription_invoices_charge)
    dunning_retry_charger_register(subscription_invoices_retry)
    subscription_payment_method_register(checkout_payment_method_ref)
    dunning_method_url_register(subscription_method_page_url)
    subscription_test_mode_register(tenant_in_test_mode)
    subscription_panel_register(template=PANEL_TEMPLATE, context_fn=subscription_payments_panel, order=40)

    @handler(events.PAYMENT_FAILED, name="payments.subscription_payment_failed")
    def subscription_payment_failed_handler(event, *, delivery_id: int) -> None:
        # Once per attempt number, however often the event comes (dunning's guard under the invoice's lock).
        subscription_payment_failed(payment_id=event.payload["id"])


# --- the subscription record page's payments panel ------------------------------------------------------------------

PANEL_TEMPLATE = "payments/subscription_method/_panel.html"
PANEL_ROWS = 20


def subscription_payments_panel(subscription: Subscription) -> dict:
    """The payments of the subscription's invoices, newest first (one query, the invoice joined), the method charged
    automatically and the buyer's page, for billing's subscription record page."""
    payments = list(
        Payment.objects.filter(invoice__subscription=subscription)
        .select_related("invoice")
        .defer("invoice__snapshot")
        .order_by("-created_at", "-pk")[: PANEL_ROWS + 1]
    )
    from payments.selectors.payments import method_text

    method = saved_method_for_ref(subscription.payment_method_ref)
    return {
        "payments": [
            (payment, method_text(payment.method, payment.method_details)) for payment in payments[:PANEL_ROWS]
        ],
        "has_more": len(payments) > PANEL_ROWS,
        "method_text": method_text(method.kind, method.details) if method else "",
        "method_page_url": subscription_method_page_url(subscription) if subscription.public_token else "",
    }
