"""Receipt PDFs: rendered with WeasyPrint from the receipt's document (payments.services.receipts) in the buyer's
language, with the invoice PDFs' stylesheet, letterhead and offline renderer (billing.pdf), the tenant's logo and
the receipt's own accent colour and footer.

A receipt never changes once issued, so its PDF is rendered once and cached in the tenant's media storage
(`Receipt.pdf_path`), as billing caches a finalized invoice's.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from billing.pdf import _common, _Format, html_pdf, pdf_cached_or_rendered, safe_file_name
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
    """The receipt's PDF: its cached file, or a render of its document stored for next time."""

    def name_for() -> str:
        # The suffix comes from the payment's public id (128 random bits): a receipt number alone finds no file.
        public_id = receipt.payment.public_id if receipt.payment_id else ""
        digest = hashlib.sha256(f"{public_id}:{receipt.number}".encode()).hexdigest()[:16]
        return f"receipts/{safe_file_name(receipt.number)}-{digest}.pdf"

    return pdf_cached_or_rendered(
        Receipt, receipt, render=lambda: receipt_pdf(receipt_document_get(receipt)), name_for=name_for
    )
