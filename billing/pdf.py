"""Invoice and credit note PDFs, rendered with WeasyPrint from a document dict (billing.documents builds an
invoice's; credit_note_create stores a credit note's) in the document's own language: labels through gettext,
dates and money through Babel.

A finalized invoice or credit note is rendered once and its PDF cached in the tenant's media storage (`pdf_path`):
its snapshot never changes, so neither does its PDF. A draft renders as a pro-forma every time, never cached.

Rendering never reaches the network: the only resources a document may load are data: URIs that this module
built itself (the logo read from storage, the EPC QR code as SVG).
"""

from __future__ import annotations

import base64
import colorsys
import hashlib
import io
import re
import threading
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path, PurePosixPath

import segno
from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

from billing.documents import invoice_document
from billing.models import CreditNote, Invoice
from billing.models.choices import AdjustmentKind, Frequency, PricingModel
from billing.models.invoice_settings import PaymentMethod
from billing.pdf_attachments import pdf_attachments_for
from commerce_hub.money import current_locale, money_format, quantize

STYLESHEET_PATH = Path(settings.BASE_DIR) / "templates" / "pdf" / "document.css"
DEFAULT_ACCENT = "#0f766e"
# EPC069-12: the amount of a SEPA credit transfer QR code is at least 0.01 and at most 999999999.99 euro.
EPC_MIN_AMOUNT = Decimal("0.01")
EPC_MAX_AMOUNT = Decimal("999999999.99")
_LOGO_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
}


# --- rendering --------------------------------------------------------------------------------------------------------


class _OfflineFetcher(URLFetcher):
    """Refuses every URL but data: URIs. A document holds text that buyers and users typed; nothing in it may make
    the renderer fetch a URL (a tracking pixel, an internal address, a local file)."""

    def fetch(self, url, headers=None):
        if not url.startswith("data:"):
            raise ValueError(f"PDF rendering loads no external resources: {url[:80]}")
        return super().fetch(url, headers)


# Pango font maps are not safe to share across threads (runserver and threaded workers render concurrently), so
# each thread keeps its own font configuration and parsed stylesheet: building them anew for every document
# would cost about as much again as rendering a one-line page.
_local = threading.local()


def _renderer() -> tuple[FontConfiguration, CSS]:
    state = getattr(_local, "renderer", None)
    if state is None:
        font_config = FontConfiguration()
        stylesheet = CSS(
            string=STYLESHEET_PATH.read_text(encoding="utf-8"), font_config=font_config, url_fetcher=_OfflineFetcher()
        )
        state = _local.renderer = (font_config, stylesheet)
    return state


def _extra_stylesheet(path: Path) -> CSS:
    """A stylesheet a kind of document adds to the document stylesheet (a quote's layouts), parsed once per thread
    with the same fonts."""
    font_config, _css = _renderer()
    sheets = _local.__dict__.setdefault("extra_sheets", {})
    if path not in sheets:
        sheets[path] = CSS(
            string=path.read_text(encoding="utf-8"), font_config=font_config, url_fetcher=_OfflineFetcher()
        )
    return sheets[path]


def html_pdf(
    html: str, *, stylesheet: bool = True, extra_stylesheet: Path | None = None, attachments: Sequence = ()
) -> bytes:
    """Render HTML to PDF bytes offline (no base URL, no network), with the document stylesheet and, when given,
    a further stylesheet on top of it. With attachments (billing.pdf_attachments.PdfAttachment) the file is a
    PDF/A-3b that embeds them; the pages render the same either way."""
    font_config, css = _renderer()
    sheets = [css] if stylesheet else []
    if extra_stylesheet is not None:
        sheets.append(_extra_stylesheet(extra_stylesheet))
    options = {}
    if attachments:
        options["pdf_variant"] = "pdf/a-3b"
        options["attachments"] = [
            Attachment(
                file_obj=io.BytesIO(item.content),
                name=item.filename,
                description=item.description or None,
                relationship=item.relationship,
            )
            for item in attachments
        ]
    return HTML(string=html, url_fetcher=_OfflineFetcher()).write_pdf(
        stylesheets=sheets or None, font_config=font_config, **options
    )


def document_html(document: dict, *, proforma: bool = False) -> str:
    """The HTML of a document's PDF, in the document's language."""
    with translation.override(document.get("language") or "en"):
        if document.get("kind") == "credit_note":
            return render_to_string("pdf/credit_note.html", _credit_note_context(document))
        return render_to_string("pdf/invoice.html", _invoice_context(document, proforma=proforma))


def document_pdf(document: dict, *, proforma: bool = False, attachments: Sequence = ()) -> bytes:
    """An invoice (or, for kind "credit_note", a credit note) as an A4 PDF. `proforma` prints a draft's document as
    a pro-forma: marked as not being an invoice, without number, payment reference or QR code."""
    return html_pdf(document_html(document, proforma=proforma), attachments=attachments)


# --- EPC QR code ------------------------------------------------------------------------------------------------------


def epc_qr_payload(*, name: str, iban: str, bic: str, amount: Decimal, reference: str) -> str:
    """The text of an EPC QR code ("SEPA Credit Transfer", EPC069-12 version 002, UTF-8): banking apps scan it to
    prefill a transfer. The invoice number goes in the unstructured remittance text (an ISO 11649 structured
    reference would need an RF check number). Raises ValueError when the transfer cannot be expressed."""
    amount = quantize(Decimal(amount), "EUR")
    if not EPC_MIN_AMOUNT <= amount <= EPC_MAX_AMOUNT:
        raise ValueError("An EPC QR amount is between 0.01 and 999999999.99 euro.")
    iban = re.sub(r"\s+", "", iban or "").upper()
    bic = re.sub(r"\s+", "", bic or "").upper()
    name = " ".join((name or "").split())[:70]
    reference = " ".join((reference or "").split())[:140]
    if not name or not 5 <= len(iban) <= 34 or len(bic) not in (0, 8, 11) or not reference:
        raise ValueError("An EPC QR code needs a beneficiary name, an IBAN, a valid BIC (or none) and a reference.")
    return "\n".join(
        [
            "BCD",  # service tag
            "002",  # version: the BIC is optional within the EEA
            "1",  # character set: UTF-8
            "SCT",  # SEPA credit transfer
            bic,
            name,
            iban,
            f"EUR{amount:f}",
            "",  # purpose code
            "",  # structured remittance reference: the unstructured text is used instead, never both
            reference,
        ]
    )


def epc_qr_data_uri(payload: str) -> str:
    # Level M without boosting, as the guideline requires, and bytes in UTF-8 to match the declared charset (segno
    # would otherwise pick Latin-1 for a name such as "Ørsta Tre AS").
    qr = segno.make(payload, error="M", boost_error=False, micro=False, encoding="utf-8")
    return qr.svg_data_uri(border=4, dark="#000000", light="#ffffff", xmldecl=False)


# --- formatting -------------------------------------------------------------------------------------------------------


class _Format:
    """Babel formatting in one locale and currency: everything a template prints is formatted here."""

    def __init__(self, currency: str):
        self.locale = current_locale()
        self.currency = currency
        self._babel = Locale.parse(self.locale)

    def money(self, value) -> str:
        return money_format(Decimal(value), self.currency, self.locale)

    def negative(self, value) -> str:
        return money_format(-Decimal(value), self.currency, self.locale)

    def unit_price(self, value) -> str:
        # Unit prices keep up to six decimals; shown in full, with at least the currency's own.
        return format_currency(Decimal(value), self.currency, locale=self.locale, decimal_quantization=False)

    def number(self, value) -> str:
        return format_decimal(Decimal(value), locale=self.locale, decimal_quantization=False)

    def percent(self, value) -> str:
        return format_percent(Decimal(value) / 100, locale=self.locale, decimal_quantization=False)

    def date(self, value: str | None) -> str:
        return format_date(date.fromisoformat(value), "long", locale=self.locale) if value else ""

    def country(self, code: str) -> str:
        return self._babel.territories.get(code, code) if code else ""


def _iban_display(iban: str) -> str:
    compact = re.sub(r"\s+", "", iban or "").upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _accent(color: str | None) -> tuple[str, str, str, str]:
    """The accent colour, the text colour readable on it, a light tint of it for backgrounds, and a shade of it
    dark enough to read as text on white."""
    color = color if color and re.fullmatch(r"#[0-9a-fA-F]{6}", color) else DEFAULT_ACCENT
    red, green, blue = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    # Relative luminance (WCAG): white text on dark accents, near-black on light ones.
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    on_accent = "#ffffff" if luminance < 0.4 else "#111827"
    hue, lightness, saturation = colorsys.rgb_to_hls(red, green, blue)

    def hex_of(rgb) -> str:
        return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)

    tint = hex_of(colorsys.hls_to_rgb(hue, 0.96, min(saturation, 0.6)))
    ink = color if luminance < 0.25 else hex_of(colorsys.hls_to_rgb(hue, min(lightness, 0.32), saturation))
    return color, on_accent, tint, ink


def _css_string(text: str) -> str:
    # A CSS string literal that cannot end the string, the rule or the <style> element it sits in.
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ").replace("<", "\\3c ")
    return f'"{escaped}"'


def _page_css(accent_color: str | None) -> str:
    accent, on_accent, tint, ink = _accent(accent_color)
    # One translatable sentence with both numbers in it, turned into a CSS content value around the counters.
    parts = re.split(r"(%\(pages?\)s)", _("Page %(page)s of %(pages)s"))
    counters = {"%(page)s": "counter(page)", "%(pages)s": "counter(pages)"}
    content = " ".join(counters.get(part) or _css_string(part) for part in parts if part)
    return mark_safe(  # noqa: S308 - built from a validated colour and escaped CSS strings only
        f":root{{--accent:{accent};--on-accent:{on_accent};--tint:{tint};--ink:{ink}}}"
        f"@page{{@bottom-right{{content:{content}}}}}"
    )


def _logo_data_uri(path: str) -> str:
    """The logo a document was made with, read from the tenant's storage (empty when it is gone)."""
    mime = _LOGO_TYPES.get(PurePosixPath(path or "").suffix.lower())
    if not path or mime is None:
        return ""
    try:
        with default_storage.open(path, "rb") as fh:
            content = fh.read()
    except OSError:
        return ""
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


# --- document contexts ------------------------------------------------------------------------------------------------


def _address(party: dict, fmt: _Format) -> list[str]:
    city = " ".join(part for part in (party.get("postal_code", ""), party.get("city", "")) if part)
    lines = [party.get("address_line1", ""), party.get("address_line2", ""), city, fmt.country(party.get("country"))]
    return [line for line in lines if line]


def _registration(party: dict, *, seller: bool) -> tuple[str, str]:
    """The label and value of a company's registration: the Dutch KvK number, or the Norwegian organisation
    number, which a Norwegian seller in the Register of Business Enterprises prints followed by
    "Foretaksregisteret" (Foretaksregisterloven § 10-2)."""
    number = party.get("registration_number", "")
    if not number:
        return "", ""
    country = party.get("country", "")
    if country == "NO":
        return _("Organisation number"), f"{number} Foretaksregisteret" if seller else number
    if country == "NL":
        return _("Chamber of Commerce number"), number
    return _("Registration number"), number


def _party(party: dict, fmt: _Format, *, seller: bool = False) -> dict:
    label, value = _registration(party, seller=seller)
    return {**party, "address": _address(party, fmt), "registration_label": label, "registration": value}


def _choice_label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def _vat_label(group: dict, fmt: _Format) -> str:
    """A VAT group's name with its rate, once: tax rates are usually named after their rate ("BTW 21%")."""
    label, rate = group.get("label", ""), fmt.percent(group["rate"])
    if group.get("reverse_charge"):
        return label or _("VAT reverse-charged")
    if not label:
        return rate
    digits = f"{Decimal(group['rate']).normalize():f}"
    named = any(re.search(rf"(?<![\d.,]){re.escape(form)}\s?%", label) for form in {digits, digits.replace(".", ",")})
    return label if named else f"{label} · {rate}"


def _vat_rows(document: dict, fmt: _Format) -> list[dict]:
    return [
        {
            "label": _vat_label(group, fmt),
            "base": fmt.money(group["base"]),
            "vat": fmt.money(group["vat"]),
        }
        for group in document.get("vat_groups", [])
    ]


def _common(document: dict, fmt: _Format) -> dict:
    seller = _party(document.get("seller") or {}, fmt, seller=True)
    return {
        "language": document.get("language") or "en",
        "page_css": _page_css(seller.get("accent_color")),
        "logo": _logo_data_uri(document.get("logo_path", "")),
        "seller": seller,
        "buyer": _party(document.get("buyer") or {}, fmt),
        "vat_rows": _vat_rows(document, fmt),
        "reverse_charge": bool(document.get("reverse_charge")),
        "footer": document.get("footer", ""),
        "legal_text": document.get("legal_text", ""),
    }


def _invoice_line(line: dict, fmt: _Format) -> dict:
    model = line.get("pricing_model") or PricingModel.FLAT
    tiered = model in (PricingModel.VOLUME, PricingModel.GRADUATED)
    if tiered and line.get("average_unit_price"):
        unit_price = fmt.unit_price(line["average_unit_price"])  # the tiers' average: the model goes in the details
    elif tiered:
        unit_price = _choice_label(PricingModel, model)
    elif model == PricingModel.PACKAGE and line.get("package_size"):
        unit_price = _("%(price)s per %(size)s") % {
            "price": fmt.unit_price(line["unit_price"]),
            "size": fmt.number(line["package_size"]),
        }
    else:
        unit_price = fmt.unit_price(line["unit_price"])
    frequency = line.get("frequency") or Frequency.ONE_TIME
    details = [text for text in (line.get("description") or "").splitlines() if text.strip()]
    recurring = "" if frequency == Frequency.ONE_TIME else _choice_label(Frequency, frequency)
    tiers = _choice_label(PricingModel, model) if tiered and line.get("average_unit_price") else ""
    if line.get("sku") or recurring or tiers:
        details.append(" · ".join(part for part in (line.get("sku"), recurring, tiers) if part))
    discount = Decimal(line.get("discount") or 0)
    if discount:
        details.append(f"{_('Discount')} {fmt.negative(discount)}")
    return {
        "name": line.get("name", ""),
        "details": details,
        "quantity": fmt.number(line["quantity"]),
        "unit_price": unit_price,
        "rate": fmt.percent(line.get("tax_rate") or 0),
        "net": fmt.money(line["net"]),
    }


def _adjustment(adjustment: dict, fmt: _Format) -> dict:
    kind = adjustment.get("kind")
    label = adjustment.get("label") or _choice_label(AdjustmentKind, kind)
    if adjustment.get("percent"):
        label = f"{label} ({fmt.percent(adjustment['percent'])})"
    amount = adjustment["amount"]
    return {"label": label, "amount": fmt.negative(amount) if kind == AdjustmentKind.DISCOUNT else fmt.money(amount)}


def _payment(document: dict, fmt: _Format, *, proforma: bool) -> dict:
    bank = document.get("bank") or {}
    total = Decimal(document.get("total") or 0)
    number = None if proforma else document.get("number")
    holder = bank.get("holder") or (document.get("seller") or {}).get("legal_name", "")
    methods = list(document.get("payment_methods") or [])
    transfer = bool(bank.get("iban")) and (not methods or PaymentMethod.BANK_TRANSFER in methods)
    qr = ""
    # Only for a numbered EUR invoice with something to pay by transfer: the code carries the number as reference.
    if transfer and total > 0 and number and document.get("currency") == "EUR":
        try:
            payload = epc_qr_payload(
                name=holder, iban=bank["iban"], bic=bank.get("bic", ""), amount=total, reference=number
            )
        except ValueError:
            payload = ""  # a bank detail the transfer cannot carry: the printed instructions still can
        qr = epc_qr_data_uri(payload) if payload else ""
    return {
        "due": total > 0,
        "amount": fmt.money(total),
        "holder": holder,
        "iban": _iban_display(bank.get("iban", "")),
        "bic": (bank.get("bic") or "").upper(),
        "reference": number,
        "methods": ", ".join(_choice_label(PaymentMethod, method) for method in methods),
        "bank_transfer": transfer,
        "qr": qr,
    }


def _invoice_context(document: dict, *, proforma: bool) -> dict:
    fmt = _Format(document["currency"])
    proforma = proforma or not document.get("number")
    context = _common(document, fmt)
    context.update(
        proforma=proforma,
        title=_("Pro-forma invoice") if proforma else _("Invoice"),
        number=None if proforma else document.get("number"),
        issue_date=fmt.date(document.get("issue_date")),
        due_date=fmt.date(document.get("due_date")),
        terms_days=document.get("payment_terms_days"),
        late_fee_for=document.get("late_fee_for"),
        comments=document.get("comments", ""),
        lines=[_invoice_line(line, fmt) for line in document.get("lines", [])],
        adjustments=[_adjustment(a, fmt) for a in document.get("adjustments", [])],
        subtotal=fmt.money(document.get("subtotal") or 0),
        vat_total=fmt.money(document.get("vat_total") or 0),
        total=fmt.money(document.get("total") or 0),
        payment=_payment(document, fmt, proforma=proforma),
    )
    return context


def _credit_note_context(document: dict) -> dict:
    fmt = _Format(document["currency"])
    context = _common(document, fmt)
    context.update(
        title=_("Credit note"),
        number=document.get("number"),
        issue_date=fmt.date(document.get("issue_date")),
        invoice_number=document.get("invoice_number", ""),
        invoice_issue_date=fmt.date(document.get("invoice_issue_date")),
        reason=document.get("reason", ""),
        lines=[
            {
                "description": line.get("description", ""),
                "quantity": fmt.number(line["quantity"]) if line.get("quantity") is not None else "",
                "rate": fmt.percent(line.get("tax_rate") or 0),
                "net": fmt.money(line["net"]),
            }
            for line in document.get("lines", [])
        ],
        subtotal=fmt.money(document.get("subtotal") or 0),
        vat_total=fmt.money(document.get("vat_total") or 0),
        total=fmt.money(document.get("total") or 0),
    )
    return context


# --- the cache --------------------------------------------------------------------------------------------------------


def safe_file_name(number: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", number).strip("-.") or "document"


def pdf_cached_or_rendered(model, obj, *, render: Callable[[], bytes], name_for: Callable[[], str]) -> bytes:
    """The stored PDF of a document that never changes (a finalized invoice, a credit note, a receipt), or a render
    of it stored for next time (`obj.pdf_path`).

    Two renders of one document may race (the finalize handler and a buyer's first download): each saves its own
    file (the storage never overwrites one), and only the conditional update that finds pdf_path unchanged
    records its file. The loser deletes its copy and returns its bytes, identical in content to the winner's."""
    path = obj.pdf_path or model.objects.filter(pk=obj.pk).values_list("pdf_path", flat=True).first() or ""
    if path:
        try:
            with default_storage.open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            data = b""  # recorded but gone from storage: render it again
        if data:
            obj.pdf_path = path
            return data
    data = render()
    saved = default_storage.save(name_for(), ContentFile(data))
    if model.objects.filter(pk=obj.pk, pdf_path=path).update(pdf_path=saved):
        obj.pdf_path = saved
    else:
        default_storage.delete(saved)
    return data


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    """The PDF of an invoice: for a finalized one, its snapshot rendered once and cached; for a draft, a pro-forma
    of its current state, rendered on every call."""
    if invoice.is_draft:
        return document_pdf(invoice_document(invoice, issue_date=timezone.localdate()), proforma=True)

    def name_for() -> str:
        # The suffix comes from the secret hosted-page token: knowing an invoice number is not enough to find
        # its file.
        digest = hashlib.sha256((invoice.public_token or "").encode()).hexdigest()[:16]
        return f"invoices/{safe_file_name(invoice.number)}-{digest}.pdf"

    def render() -> bytes:
        return document_pdf(invoice.snapshot, attachments=pdf_attachments_for(invoice))

    return pdf_cached_or_rendered(Invoice, invoice, render=render, name_for=name_for)


def credit_note_pdf_bytes(note: CreditNote) -> bytes:
    """The PDF of a credit note, rendered once from its snapshot and cached."""

    def name_for() -> str:
        token = Invoice.objects.filter(pk=note.invoice_id).values_list("public_token", flat=True).first() or ""
        digest = hashlib.sha256(f"{token}:{note.number}".encode()).hexdigest()[:16]
        return f"credit-notes/{safe_file_name(note.number)}-{digest}.pdf"

    def render() -> bytes:
        return document_pdf(note.snapshot, attachments=pdf_attachments_for(note))

    return pdf_cached_or_rendered(CreditNote, note, render=render, name_for=name_for)
