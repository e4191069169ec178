"""Emails about a checkout payment (templates/emails/payment-*), queued by payments.handlers when the payment's
domain events are delivered:

    payment.succeeded   the seller's notice (payment-received); the buyer's confirmation is the receipt email
                        (payments/services/receipts.py), issued on the same event with the receipt attached
    payment.processing  the buyer's notice that a bank debit is on its way (payment-processing): what, from which
                        account, under which mandate
    payment.failed      a bank debit that failed after processing: the buyer's notice, with the link to pay again
                        (payment-failed); a card declined on the page is shown there and not emailed

Each delivery queues its emails once (commerce_hub.events.services.delivery_once): a delivery run again after a
crash finds its mark and queues nothing more. Buyers read them in the payment's language, admins in their own.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation

from billing.documents import invoice_settings_get
from commerce_hub.events.services import delivery_once
from commerce_hub.mail import email_queue
from commerce_hub.organization.selectors import organization_profile_get
from commerce_hub.site_urls import current_tenant_url
from payments.models import MethodKind, Payment, PaymentEvent, PaymentStatus, ProcessorKey
from payments.selectors.payments import method_text
from payments.services.payouts import admins

DEBIT_METHODS = (MethodKind.SEPA_DEBIT, MethodKind.ACH_DEBIT)


def payment_method_text(payment: Payment) -> str:
    return method_text(payment.method, payment.method_details)


def _context(payment: Payment, language: str) -> dict:
    with translation.override(language):
        method_text = payment_method_text(payment)
    invoice = payment.invoice
    snapshot = (invoice.snapshot or {}) if invoice is not None else {}
    seller = snapshot.get("seller", {}).get("legal_name") or organization_profile_get().legal_name
    token = invoice.public_token if invoice is not None else None
    return {
        "payment": payment,
        "invoice": invoice,
        "seller_name": seller,
        "buyer_name": payment.buyer_name or snapshot.get("buyer", {}).get("name", ""),
        "method_text": method_text,
        "test_mode": payment.processor == ProcessorKey.BUILTIN,
        "hosted_url": current_tenant_url(reverse("billing:invoice_hosted", args=[token])) if token else "",
        "checkout_url": current_tenant_url(reverse("payments:checkout", args=[token])) if token else "",
        "payment_url": (
            current_tenant_url(reverse("payments:checkout_payment", args=[token, payment.public_id])) if token else ""
        ),
    }


def _seller_recipients() -> list[tuple[str, str]]:
    """(address, language): the invoices' reply-to address when the seller set one, else every active admin."""
    reply_to = invoice_settings_get().email
    if reply_to:
        return [(reply_to, organization_profile_get().language)]
    return [(user.email, user.language) for user in admins()]


def _payment(payment_id: int) -> Payment | None:
    return Payment.objects.select_related("invoice").filter(pk=payment_id).first()


def payment_succeeded_emails_queue(*, payment_id: int, delivery_id: int) -> int:
    """The seller's notice. Returns how many emails were queued now."""
    payment = _payment(payment_id)
    if payment is None or payment.status != PaymentStatus.SUCCEEDED:
        return 0
    queued = []

    def queue():
        invoice_url = (
            current_tenant_url(reverse("billing:invoice_detail", args=[payment.invoice_id]))
            if payment.invoice_id
            else ""
        )
        for address, language in _seller_recipients():
            context = {**_context(payment, language), "invoice_url": invoice_url}
            queued.append(email_queue(to=address, name="payment-received", context=context, language=language))

    delivery_once(delivery_id=delivery_id, effect=queue, step="checkout-emails")
    return len(queued)


def payment_processing_email_queue(*, payment_id: int, delivery_id: int) -> int:
    """A bank debit is on its way: the buyer's notice, which also serves as the debit's pre-notification."""
    payment = _payment(payment_id)
    if payment is None or payment.method not in DEBIT_METHODS or not payment.buyer_email:
        return 0
    context = _context(payment, payment.language)
    queued = []

    def queue():
        queued.append(
            email_queue(
                to=payment.buyer_email,
                name="payment-processing",
                context=context,
                language=payment.language,
                reply_to=invoice_settings_get().email,
            )
        )

    delivery_once(delivery_id=delivery_id, effect=queue, step="checkout-emails")
    return len(queued)


def payment_failed_email_queue(*, payment_id: int, delivery_id: int) -> int:
    """A bank debit the bank refused after it was processing. A payment refused while the buyer was on the page
    (a declined card, an invalid IBAN) was shown there and is not emailed."""
    payment = _payment(payment_id)
    if payment is None or payment.method not in DEBIT_METHODS or not payment.buyer_email:
        return 0
    if not PaymentEvent.objects.filter(payment=payment, kind="processing").exists():
        return 0
    context = _context(payment, payment.language)
    queued = []

    def queue():
        queued.append(
            email_queue(
                to=payment.buyer_email,
                name="payment-failed",
                context=context,
                language=payment.language,
                reply_to=invoice_settings_get().email,
            )
        )

    delivery_once(delivery_id=delivery_id, effect=queue, step="checkout-emails")
    return len(queued)
