"""Files that features embed in invoice and credit note PDFs (an e-invoice's XML, Factur-X style), without billing
knowing them: a feature registers `fn(invoice_or_credit_note)` returning a list of
(file name, bytes, mime type, description) tuples, empty when it has nothing to add for that document.

A PDF that carries attachments is written as PDF/A-3b, the archival profile that allows embedded files. The
attachments are read when the PDF is rendered, which for a finalized document happens once (the cached file,
pdf_path): a provider builds them from the same frozen snapshot the PDF prints, and a feature whose setting changes
what it would attach calls pdf_cache_forget() so that each PDF is rendered again on its next download.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from billing.models import CreditNote, Invoice


class PdfAttachment(NamedTuple):
    filename: str
    content: bytes
    mime: str
    description: str = ""
    # ISO 32000-2 7.11.3: "Alternative" marks another representation of the same document (an e-invoice).
    relationship: str = "Alternative"


_providers: list[Callable[[Invoice | CreditNote], list]] = []


def register_pdf_attachments(fn: Callable[[Invoice | CreditNote], list]) -> None:
    if fn not in _providers:
        _providers.append(fn)


def pdf_attachments_for(document: Invoice | CreditNote) -> list[PdfAttachment]:
    """Every registered provider's files for a finalized invoice or a credit note, in registration order."""
    return [PdfAttachment(*item) for fn in _providers for item in fn(document) or ()]


def pdf_cache_forget() -> int:
    """Drop every cached invoice and credit note PDF, so each renders again (from its unchanged snapshot) with what
    the providers attach now. The old files stay in storage: emails already sent link none of them."""
    return Invoice.objects.exclude(pdf_path="").update(pdf_path="") + CreditNote.objects.exclude(pdf_path="").update(
        pdf_path=""
    )
