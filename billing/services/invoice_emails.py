"""Emails to buyers about an invoice: the invoice itself and its reminders, in the invoice's language, with the
hosted page link and the PDF attached (produced when the email goes out, from the PDF cache)."""

from __future__ import annotations

from django.urls import reverse

from billing.documents import invoice_settings_get
from billing.models import CreditNote, Invoice
from commerce_hub.mail import attachment_provider, email_queue
from commerce_hub.site_urls import current_tenant_url


def invoice_hosted_url(invoice: Invoice) -> str:
    return current_tenant_url(reverse("billing:invoice_hosted", args=[invoice.public_token]))


@attachment_provider("billing.invoice_pdf")
def _invoice_pdf(invoice_id) -> tuple[str, bytes, str]:
    from billing.pdf import invoice_pdf_bytes

    invoice = Invoice.objects.get(pk=invoice_id)
    return f"{invoice.number}.pdf", invoice_pdf_bytes(invoice), "application/pdf"


@attachment_provider("billing.credit_note_pdf")
def _credit_note_pdf(credit_note_id) -> tuple[str, bytes, str]:
    from billing.pdf import credit_note_pdf_bytes

    note = CreditNote.objects.get(pk=credit_note_id)
    return f"{note.number}.pdf", credit_note_pdf_bytes(note), "application/pdf"


def invoice_email_queue(*, invoice: Invoice, to: str, template: str = "invoice", **context):
    """Queue one email (templates/emails/<template>-*) about `invoice` to `to`, in the invoice's language, inside
    the caller's transaction. `template` is "invoice" or one of the reminder templates."""
    settings = invoice_settings_get()
    snapshot = invoice.snapshot or {}
    # Greet the person the email goes to; the company name when the address is not one of the contacts.
    recipient = invoice.contacts.filter(email__iexact=to).first()
    return email_queue(
        to=to,
        name=template,
        language=invoice.language,
        context={
            "invoice": invoice,
            "document": snapshot,
            "seller_name": snapshot.get("seller", {}).get("legal_name", ""),
            "buyer_name": recipient.full_name if recipient else snapshot.get("buyer", {}).get("name", ""),
            "hosted_url": invoice_hosted_url(invoice),
            **context,
        },
        attachments=[{"provider": "billing.invoice_pdf", "id": invoice.pk}],
        reply_to=settings.email,
    )
