"""Quote PDFs: the published document (templates/pdf/quote.html, one of three layouts), a draft's preview, and the
signed copy: the published PDF's exact bytes followed by a certificate page listing every signature.

Built from billing.pdf's blocks (offline rendering, Babel formatting, the lines and totals of pdf/_lines.html that
invoices print too) plus templates/pdf/quote.css for the layouts. A publication's PDF is rendered once, when it is
published, and stored with its SHA-256: what a signer signs is that file, never a later render of it.

The signed PDF is written as an incremental update (pypdf): the original file is left byte for byte as it was and
the certificate page is appended after it, so anyone holding the signed copy can check that its first bytes hash to
the SHA-256 each signature recorded.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pypdf
from babel.dates import format_datetime
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import QuoteLayout, QuotePublication, QuoteSigner, SignatureKind, SignerRole
from billing.models.choices import BillingStart, Frequency
from billing.pdf import (
    _adjustment,
    _choice_label,
    _common,
    _css_string,
    _Format,
    _invoice_line,
    _logo_data_uri,
    html_pdf,
    safe_file_name,
)

QUOTE_STYLESHEET = Path(settings.BASE_DIR) / "templates" / "pdf" / "quote.css"


class QuotePdfMissing(Exception):
    """The stored PDF of a publication is gone from storage (it is never rendered again: its hash is on record)."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the document -----------------------------------------------------------------------------------------------------


def billing_start_text(start: dict | None, fmt: _Format) -> str:
    """When a recurring line's billing starts, in words."""
    if not start:
        return ""
    kind = start.get("kind")
    if kind == BillingStart.DATE and start.get("date"):
        return _("Billing starts on %(date)s") % {"date": fmt.date(start["date"])}
    if kind == BillingStart.DELAY_DAYS:
        days = int(start.get("delay") or 0)
        return ngettext(
            "Billing starts %(count)d day after checkout", "Billing starts %(count)d days after checkout", days
        ) % {"count": days}
    if kind == BillingStart.DELAY_MONTHS:
        months = int(start.get("delay") or 0)
        return ngettext(
            "Billing starts %(count)d month after checkout", "Billing starts %(count)d months after checkout", months
        ) % {"count": months}
    return _("Billing starts at checkout")


def _quote_line(line: dict, fmt: _Format) -> dict:
    row = _invoice_line(line, fmt)
    start = billing_start_text(line.get("billing_start"), fmt)
    if start:
        row["details"].append(start)
    return row


def _installment(row: dict, fmt: _Format) -> dict:
    return {
        "name": row.get("name", ""),
        "share": fmt.percent(row["percent"]) if row.get("percent") else "",
        "amount": fmt.money(row["amount"]) if row.get("amount") is not None else "",
        "due": fmt.date(row["due_date"]) if row.get("due_date") else _("At checkout"),
    }


def _recurring_row(row: dict, fmt: _Format) -> dict:
    return {
        "name": row.get("name", ""),
        "frequency": _choice_label(Frequency, row.get("frequency") or ""),
        "net": fmt.money(row["net"]),
        "start": billing_start_text(row.get("billing_start"), fmt),
    }


def quote_context(document: dict, *, draft: bool = False) -> dict:
    """What templates/pdf/quote.html prints, formatted in the active language."""
    fmt = _Format(document["currency"])
    context = _common(document, fmt)
    template = document.get("template") or {}
    layout = template.get("layout") if template.get("layout") in QuoteLayout.values else QuoteLayout.CLASSIC
    number = None if draft else document.get("number")
    revision = document.get("revision") or 0
    signers = [
        {**signer, "role_label": _choice_label(SignerRole, signer.get("role", ""))}
        for signer in document.get("signers", [])
    ]
    context.update(
        layout=layout,
        draft=draft or not number,
        heading=_("Quote"),
        title=document.get("title", ""),
        number=number,
        revision=revision if revision > 1 else None,
        issue_date=fmt.date(document.get("issue_date")),
        expires_on=fmt.date(document.get("expires_on")),
        sender=document.get("sender") or {},
        header_text=document.get("header_text", ""),
        terms=document.get("terms", ""),
        comments=document.get("comments", ""),
        lines=[_quote_line(line, fmt) for line in document.get("lines", [])],
        adjustments=[_adjustment(a, fmt) for a in document.get("adjustments", [])],
        subtotal=fmt.money(document.get("subtotal") or 0),
        vat_total=fmt.money(document.get("vat_total") or 0),
        total=fmt.money(document.get("total") or 0),
        recurring=[_recurring_row(row, fmt) for row in document.get("recurring", [])],
        installments=[_installment(row, fmt) for row in document.get("installments", [])],
        signature_required=bool(document.get("signature_required")),
        signers=signers,
        signer_rows=[signers[i : i + 2] for i in range(0, len(signers), 2)],
    )
    return context


def quote_document_html(document: dict, *, draft: bool = False) -> str:
    with translation.override(document.get("language") or "en"):
        return render_to_string("pdf/quote.html", quote_context(document, draft=draft))


def quote_document_pdf(document: dict, *, draft: bool = False) -> bytes:
    """A quote as an A4 PDF in its language and layout. `draft` prints a preview: marked as a draft, without
    number."""
    return html_pdf(quote_document_html(document, draft=draft), extra_stylesheet=QUOTE_STYLESHEET)


def quote_draft_pdf_bytes(quote) -> bytes:
    """The preview of a quote as it stands now (rendered on every call, never stored)."""
    from billing.quote_documents import quote_document

    return quote_document_pdf(quote_document(quote, issue_date=timezone.localdate()), draft=True)


def publication_pdf_name(*, number: str, revision: int, token: str) -> str:
    # The suffix comes from the secret token: knowing a quote number is not enough to find its file.
    digest = hashlib.sha256(token.encode()).hexdigest()[:16]
    return f"quotes/{safe_file_name(number)}-r{revision}-{digest}.pdf"


def pdf_store(name: str, data: bytes) -> str:
    """Store a PDF under (about) `name`; the storage never overwrites a file, so the path it returns is recorded."""
    return default_storage.save(name, ContentFile(data))


def stored_pdf_bytes(path: str) -> bytes:
    """A stored PDF's bytes; QuotePdfMissing when it is not there."""
    if not path:
        raise QuotePdfMissing(path)
    try:
        with default_storage.open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise QuotePdfMissing(path) from exc


def publication_pdf_bytes(publication: QuotePublication) -> bytes:
    """The PDF published with this revision, exactly as stored."""
    return stored_pdf_bytes(publication.pdf_path)


# --- the certificate and the signed copy ------------------------------------------------------------------------------


def _when(value, fmt: _Format, tz) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value, tz)
    return format_datetime(local, "d MMMM y, HH:mm:ss xxx", locale=fmt.locale)


def quote_certificate_context(
    publication: QuotePublication, signers: list[QuoteSigner], *, tz, original: bytes
) -> dict:
    document = publication.snapshot
    fmt = _Format(document["currency"])
    context = _common(document, fmt)
    completed = max((s.signed_at for s in signers if s.signed_at), default=None)
    context.update(
        number=document.get("number") or publication.quote.number,
        revision=publication.revision,
        title=document.get("title", ""),
        published_at=_when(publication.published_at, fmt, tz),
        completed_at=_when(completed, fmt, tz),
        document_sha256=publication.pdf_sha256,
        document_bytes=len(original),
        document_pages=len(pypdf.PdfReader(io.BytesIO(original)).pages),
        timezone_name=str(tz),
        signers=[
            {
                "position": index + 1,
                "name": signer.name,
                "email": signer.email,
                "role": _choice_label(SignerRole, signer.role),
                "signature_name": signer.signature_name,
                "drawn": signer.signature_kind == SignatureKind.DRAWN,
                "image": signer.signature_image if signer.signature_kind == SignatureKind.DRAWN else "",
                "kind": _choice_label(SignatureKind, signer.signature_kind),
                "verified_at": _when(signer.verified_at, fmt, tz),
                "signed_at": _when(signer.signed_at, fmt, tz),
                "ip_address": signer.ip_address or "",
                "user_agent": signer.user_agent,
                "pdf_sha256": signer.pdf_sha256,
            }
            for index, signer in enumerate(signers)
        ],
    )
    context["logo"] = _logo_data_uri(document.get("logo_path", ""))
    # The certificate follows the document's own pages: it names itself instead of counting pages.
    context["page_css"] = mark_safe(  # noqa: S308 - a validated colour and an escaped CSS string only
        f"{context['page_css']}@page{{@bottom-right{{content:{_css_string(_('Signature certificate'))}}}}}"
    )
    return context


def quote_certificate_pdf(publication: QuotePublication, signers: list[QuoteSigner], *, tz, original: bytes) -> bytes:
    """The certificate page: the document's identity and hash, and each signature's audit record."""
    with translation.override(publication.snapshot.get("language") or "en"):
        html = render_to_string(
            "pdf/quote_certificate.html",
            quote_certificate_context(publication, signers, tz=tz, original=original),
        )
    return html_pdf(html, extra_stylesheet=QUOTE_STYLESHEET)


def pdf_append(original: bytes, extra: bytes) -> bytes:
    """`original` byte for byte, followed by an incremental update that adds the pages of `extra`."""
    writer = pypdf.PdfWriter(io.BytesIO(original), incremental=True)
    for page in pypdf.PdfReader(io.BytesIO(extra)).pages:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def signed_pdf_name(publication: QuotePublication) -> str:
    digest = hashlib.sha256(f"{publication.token}:signed".encode()).hexdigest()[:16]
    number = publication.snapshot.get("number") or "quote"
    return f"quotes/{safe_file_name(number)}-r{publication.revision}-signed-{digest}.pdf"


def signed_pdf_bytes(publication: QuotePublication) -> bytes:
    """The signed copy, once every signer has signed."""
    return stored_pdf_bytes(publication.signed_pdf_path)
