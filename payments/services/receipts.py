"""Receipts and refund notices for buyers.

A receipt is issued once per succeeded payment: numbered in its own gap-free series (RCPT-1001, ...) inside the
transaction that creates it, so a rollback gives the number back, and emailed to the buyer with its PDF attached
(rendered when the email goes out, then cached). What it prints (seller, buyer, amount, method, the invoice and what
is still due on it, the branding) is fixed when it is issued and kept on the "receipt_issued" timeline row, so a
reprint a year later shows the same figures even after refunds or a new logo.

Both notices come from event handlers (payments/handlers.py), which run at least once: a receipt exists at most once
per payment (the payment row is locked while it is looked for and created), a refund notice once per delivery.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing.documents import invoice_settings_get, logo_freeze, seller_snapshot
from billing.selectors.receivables import invoice_figures
from billing.services.numbering import number_take
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.mail import attachment_provider, email_queue
from commerce_hub.organization.selectors import organization_profile_get
from payments.models import Payment, PaymentStatus, ProcessorKey, Receipt, Refund, RefundStatus
from payments.selectors.payments import method_text, receipt_document_get
from payments.selectors.settings import payment_settings
from payments.services.payment_records import payment_event_add

RECEIPT_SERIES = "receipt"  # registered by payments/apps.py: RCPT, from 1001


def _buyer(payment: Payment) -> dict:
    """The buyer as the invoice names them (its frozen snapshot), else the payment's company or contact."""
    invoice = payment.invoice
    snapshot_buyer = ((invoice.snapshot or {}).get("buyer") or {}) if invoice else {}
    if snapshot_buyer.get("name"):
        return {k: v for k, v in snapshot_buyer.items() if k != "emails"}
    company, contact = payment.company, payment.contact
    if company:
        return {
            "name": company.name,
            "address_line1": company.address_line1,
            "postal_code": company.postal_code,
            "city": company.city,
            "country": company.country,
            "vat_number": company.vat_number,
        }
    return {"name": contact.full_name if contact else (payment.buyer_name or payment.buyer_email)}


def receipt_recipient(payment: Payment) -> str:
    """Who gets the receipt: the address the buyer paid with, else the paying contact's."""
    if payment.buyer_email:
        return payment.buyer_email
    if payment.contact_id and payment.contact.email:
        return payment.contact.email
    buyer = ((payment.invoice.snapshot or {}).get("buyer") or {}) if payment.invoice else {}
    emails = buyer.get("emails") or []
    return emails[0] if emails else ""


def receipt_document(payment: Payment, *, number: str, issued_at) -> dict:
    """What a receipt prints, as plain values (amounts as Decimal strings), fixed when it is issued."""
    settings = payment_settings()
    invoice = payment.invoice
    due = invoice_figures(invoice).due if invoice else None
    seller = seller_snapshot() | {"accent_color": settings.receipt_accent_color}
    paid_at = payment.succeeded_at or issued_at
    return {
        "kind": "receipt",
        "number": number,
        "language": payment.language or "en",
        "currency": payment.currency,
        "issue_date": timezone.localdate(issued_at).isoformat(),
        "paid_on": timezone.localdate(paid_at).isoformat(),
        "amount": f"{payment.amount:f}",
        "method": payment.method,
        "method_details": payment.method_details or {},
        "payment_reference": payment.public_id,
        "test_mode": payment.processor == ProcessorKey.BUILTIN,
        "invoice_number": invoice.number if invoice else "",
        "invoice_total": f"{invoice.total:f}" if invoice and invoice.total is not None else None,
        "invoice_due": f"{due:f}" if due is not None else None,
        "seller": seller,
        "buyer": _buyer(payment),
        "footer": settings.receipt_footer,
        # A copy no later upload can replace, as an invoice keeps the logo it was finalized with.
        "logo_path": logo_freeze(),
    }


@attachment_provider("payments.receipt_pdf")
def _receipt_pdf(receipt_id) -> tuple[str, bytes, str]:
    from payments.receipts_pdf import receipt_pdf_bytes

    receipt = Receipt.objects.get(pk=receipt_id)
    return f"{receipt.number}.pdf", receipt_pdf_bytes(receipt), "application/pdf"


def _receipt_email_queue(*, receipt: Receipt, payment: Payment, document: dict, to: str):
    """Inside the caller's transaction: the email is stored with the change and sent after commit. It is also the
    buyer's confirmation of the payment: what was paid, how, and the reference to quote."""
    language = document.get("language") or "en"
    with translation.override(language):
        method = method_text(document["method"], document["method_details"])
    return email_queue(
        to=to,
        name="receipt",
        language=language,
        context={
            "receipt": receipt,
            "payment": payment,
            "document": document,
            "still_due": Decimal(document["invoice_due"]) if document.get("invoice_due") is not None else None,
            "seller_name": document["seller"].get("legal_name", ""),
            "method_text": method,
            "buyer_name": (payment.contact.full_name if payment.contact_id else "")
            or payment.buyer_name
            or document["buyer"].get("name", ""),
        },
        attachments=[{"provider": "payments.receipt_pdf", "id": receipt.pk}],
        reply_to=invoice_settings_get().email,
    )


def receipt_issue(*, payment_id: int) -> Receipt | None:
    """The receipt of a succeeded payment: issued, numbered and emailed the first time, returned as it is after
    that. None for a payment that has not succeeded."""
    with transaction.atomic():
        # The payment's lock makes a second delivery of the event (or two at once) wait here and then find the
        # receipt: one receipt per payment, and no number taken for nothing.
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("invoice", "company", "contact")
            .filter(pk=payment_id)
            .first()
        )
        if payment is None or payment.status != PaymentStatus.SUCCEEDED:
            return None
        existing = Receipt.objects.filter(payment=payment).first()
        if existing is not None:
            return existing
        now = timezone.now()
        number, _sequence = number_take(key=RECEIPT_SERIES)
        document = receipt_document(payment, number=number, issued_at=now)
        receipt = Receipt.objects.create(payment=payment, number=number, issued_at=now)
        payment_event_add(payment, kind="receipt_issued", number=number, document=document)
        to = receipt_recipient(payment)
        if to:
            _receipt_email_queue(receipt=receipt, payment=payment, document=document, to=to)
            receipt.emailed_at = now
            receipt.save(update_fields=["emailed_at"])
            payment_event_add(payment, kind="receipt_sent", number=number, to=to)
    return receipt


def receipt_send(*, receipt: Receipt, actor, to: str = "") -> str:
    """Send a receipt again (the buyer lost it, or asks for it at another address). Returns the address."""
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    with transaction.atomic():
        payment = Payment.objects.select_related("invoice", "company", "contact").get(pk=receipt.payment_id)
        to = (to or receipt_recipient(payment)).strip()
        if not to:
            raise ValidationError({"to": [_("This payment has no email address; enter one.")]})
        try:
            validate_email(to)
        except ValidationError:
            raise ValidationError({"to": [_("Enter a valid email address.")]}) from None
        _receipt_email_queue(receipt=receipt, payment=payment, document=receipt_document_get(receipt), to=to)
        Receipt.objects.filter(pk=receipt.pk).update(emailed_at=timezone.now())
        payment_event_add(payment, kind="receipt_sent", actor=actor, number=receipt.number, to=to)
        audit_record(
            actor=actor, action="payments.receipt_sent", obj=receipt, object_repr=receipt.number, after={"to": to}
        )
    return to


# --- refund notices --------------------------------------------------------------------------------------------------

# How long a refund takes to reach the buyer, by how they paid (what processors and banks tell buyers to expect).
ARRIVAL_DAYS = {
    "card": (5, 10),
    "sepa_debit": (1, 3),
    "ach_debit": (3, 5),
    "ideal": (1, 3),
    "vipps_mobilepay": (1, 3),
}


def refund_email_queue(*, refund_id: int):
    """Tell the buyer a refund is on its way: the amount, the payment it goes back to, and when it arrives. Returns
    the stored email, or None when there is nobody to tell."""
    refund = (
        Refund.objects.select_related("payment", "payment__invoice", "payment__contact", "credit_note")
        .filter(pk=refund_id, status=RefundStatus.SUCCEEDED)
        .first()
    )
    if refund is None:
        return None
    payment = refund.payment
    to = receipt_recipient(payment)
    if not to:
        return None
    low, high = ARRIVAL_DAYS.get(payment.method, (5, 10))
    seller_name = organization_profile_get().legal_name
    language = payment.language or "en"
    with translation.override(language):
        method = method_text(payment.method, payment.method_details)  # "Card" and the like, in the buyer's language
    with transaction.atomic():
        email = email_queue(
            to=to,
            name="refund",
            language=language,
            context={
                "refund": refund,
                "payment": payment,
                "invoice_number": payment.invoice.number if payment.invoice_id else "",
                "method": method,
                "days_low": low,
                "days_high": high,
                "seller_name": seller_name,
                "accent_color": payment_settings().receipt_accent_color,
                "buyer_name": (payment.contact.full_name if payment.contact_id else "") or payment.buyer_name,
                "credit_note_number": refund.credit_note.number if refund.credit_note_id else "",
            },
        )
        payment_event_add(payment, kind="refund_notice_sent", to=to, amount=f"{refund.amount:f}")
    return email
