"""Receipt PDFs: rendered with WeasyPrint from the receipt's document (payments.services.receipts) in the buyer's
language, with the invoice PDFs' stylesheet, letterhead and offline renderer (billing.pdf), the tenant's logo and
the receipt's own accent colour and footer.

A receipt never changes once issued, so its PDF is rendered once and cached in the tenant's media storage
(`Receipt.pdf_path`), as billing caches a finalized invoice's.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from billing.pdf import _common, _Format, html_pdf
from payments.models import Receipt
from payments.selectors.payments import method_text, receipt_document_get


def receipt_context(document: dict) -> dict:
    fmt = _Format(document["currency"])
    context = _common(document, fmt)
    due = document.get("invoice_due")
    context.update(
        title=_("Receipt"),
        number=document["number"],
        issue_date=fmt.date(document.get("issue_date")),
        paid_on=fmt.date(document.get("paid_on")),
        amount=fmt.money(document["amount"]),
        method=method_text(document.get("method", ""), document.get("method_details")),
        payment_reference=document.get("payment_reference", ""),
        test_mode=bool(document.get("test_mode")),
        invoice_number=document.get("invoice_number", ""),
        invoice_total=fmt.money(document["invoice_total"]) if document.get("invoice_total") is not None else "",
        invoice_due=fmt.money(due) if due is not None else "",
        paid_in_full=due is not None and Decimal(due) <= 0,
    )
    return context


def receipt_html(document: dict) -> str:
    with translation.override(document.get("language") or "en"):
        return render_to_string("pdf/receipt.html", receipt_context(document))


def receipt_pdf(document: dict) -> bytes:
    return html_pdf(receipt_html(document))


def receipt_pdf_bytes(receipt: Receipt) -> bytes:
    """The receipt's PDF: its cached file, or a render of its document stored for next time.

    Two first renders may race (the email going out and a staff download): each saves its own file, and only the
    conditional update that finds pdf_path unchanged records its file; the other deletes its copy."""
    path = receipt.pdf_path or Receipt.objects.filter(pk=receipt.pk).values_list("pdf_path", flat=True).first() or ""
    if path:
        try:
            with default_storage.open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            data = b""  # recorded but gone from storage: render it again
        if data:
            receipt.pdf_path = path
            return data
    data = receipt_pdf(receipt_document_get(receipt))
    # The suffix comes from the payment's public id (128 random bits): a receipt number alone finds no file.
    public_id = receipt.payment.public_id if receipt.payment_id else ""
    digest = hashlib.sha256(f"{public_id}:{receipt.number}".encode()).hexdigest()[:16]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", receipt.number).strip("-.") or "receipt"
    saved = default_storage.save(f"receipts/{safe}-{digest}.pdf", ContentFile(data))
    if Receipt.objects.filter(pk=receipt.pk, pdf_path=path).update(pdf_path=saved):
        receipt.pdf_path = saved
    else:
        default_storage.delete(saved)
    return data
