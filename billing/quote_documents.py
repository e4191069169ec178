"""What a quote prints, as one plain dict (the "document", kind "quote"), built like an invoice's
(billing.documents): seller, buyer, sender, lines, VAT breakdown and totals from the pricing engine, plus what only a
quote has: its title, expiry date, template and theme (layout, accent colour, logo, header and footer text, terms),
signers, the payment schedule and the billing start of its recurring lines.

A draft's document is built live (the preview); publishing stores it in the QuotePublication of that revision, so
the PDF, the hosted page and the certificate show exactly what was published even when the quote, the template,
the company profile or the buyer change afterwards. Amounts are Decimal strings; dates ISO strings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from billing import editor, installments, pricing
from billing.documents import current_logo_path, document_figures, seller_snapshot
from billing.models import (
    DocumentAdjustment,
    LineItem,
    Quote,
    QuoteInstallment,
    QuoteLayout,
    QuoteTemplate,
    SignerRole,
)
from billing.models.choices import BillingStart, Frequency

QUOTE_LOGO_FOLDER = "quote-logos/frozen"


# --- template and theme -----------------------------------------------------------------------------------------------

# fn(template or None, language) -> {"layout", "accent_color", "logo_path", "header_text", "footer_text", "terms"}:
# what a quote printed with the template shows in that language, standard texts of the built-in templates included.
# The templates feature provides it (billing.selectors.quote_templates.quote_template_texts, registered from
# billing/setup): it sits above this module, which its selectors import.
_template_texts: Callable[[QuoteTemplate | None, str], dict] | None = None


def quote_template_texts_register(fn: Callable[[QuoteTemplate | None, str], dict]) -> None:
    global _template_texts
    _template_texts = fn


def _own_texts(template: QuoteTemplate | None) -> dict:
    """Without the templates feature: the template's own texts and theme, the Branding logo and colour else."""
    template = template or QuoteTemplate.objects.filter(is_default=True, archived=False).first()
    theme = {"layout": QuoteLayout.CLASSIC, "accent_color": "", "logo_path": current_logo_path()}
    theme.update({name: "" for name in ("header_text", "footer_text", "terms")})
    if template is not None:
        theme.update(
            layout=template.layout,
            accent_color=template.accent_color,
            header_text=template.header_text,
            footer_text=template.footer_text,
            terms=template.terms,
        )
        if template.logo:
            theme["logo_path"] = template.logo.name
    return theme


def _logo_copy(path: str) -> str:
    """A copy of a logo that no later upload can replace, stored under its content hash (the same logo is one file
    however many quotes print it). Empty when the file is gone."""
    if not path:
        return ""
    try:
        with default_storage.open(path, "rb") as fh:
            content = fh.read()
    except OSError:
        return ""
    suffix = PurePosixPath(path).suffix.lower() or ".png"
    frozen = f"{QUOTE_LOGO_FOLDER}/{hashlib.sha256(content).hexdigest()}{suffix}"
    if not default_storage.exists(frozen):
        default_storage.save(frozen, ContentFile(content))
    return frozen


def quote_theme(quote: Quote, *, freeze_logo: bool = False) -> dict:
    """The quote's template and theme as its document stores them, texts in the quote's language. `freeze_logo`
    copies the logo so that the published document keeps it (publishing); a preview points at the current file."""
    template = quote.template if quote.template_id else None
    language = quote.language or "en"
    texts = _template_texts(template, language) if _template_texts is not None else _own_texts(template)
    layout = texts.get("layout")
    logo_path = texts.get("logo_path") or ""
    return {
        "template_id": quote.template_id,
        "layout": layout if layout in QuoteLayout.values else QuoteLayout.CLASSIC,
        "accent_color": texts.get("accent_color") or "",
        "header_text": texts.get("header_text") or "",
        "footer_text": texts.get("footer_text") or "",
        "terms": texts.get("terms") or "",
        "logo_path": _logo_copy(logo_path) if freeze_logo else logo_path,
    }


# --- lines and figures ------------------------------------------------------------------------------------------------


def quote_lines(quote: Quote) -> list[LineItem]:
    return list(LineItem.objects.filter(quote=quote).select_related("tax_rate").order_by("position", "id"))


def quote_adjustments(quote: Quote) -> list[DocumentAdjustment]:
    return list(DocumentAdjustment.objects.filter(quote=quote).order_by("position", "id"))


def quote_summary(quote: Quote, lines: list[LineItem] | None = None) -> pricing.DocumentSummary:
    """The engine's figures for the quote (raises pricing.PricingError when something cannot be priced)."""
    lines = quote_lines(quote) if lines is None else lines
    return editor.summary(lines, quote_adjustments(quote), currency=quote.currency)


def _billing_start(line: LineItem) -> dict | None:
    if line.frequency == Frequency.ONE_TIME:
        return None
    start = {"kind": line.billing_start or BillingStart.CHECKOUT}
    if line.billing_start == BillingStart.DATE and line.billing_start_date:
        start["date"] = line.billing_start_date.isoformat()
    elif line.billing_start in (BillingStart.DELAY_DAYS, BillingStart.DELAY_MONTHS):
        start["delay"] = line.billing_start_delay or 0
    return start


def _recurring(lines: list[LineItem], rows: list[dict]) -> list[dict]:
    """The recurring lines with what each costs per period and when its billing starts."""
    return [
        {"name": row["name"], "frequency": row["frequency"], "net": row["net"], "billing_start": row["billing_start"]}
        for line, row in zip(lines, rows, strict=True)
        if line.frequency != Frequency.ONE_TIME
    ]


def quote_schedule_rows(quote: Quote, summary: pricing.DocumentSummary) -> tuple[list[dict], list[str]]:
    """The payment schedule as the document prints it, each installment with its amount (billing.installments: the
    amounts add up to the total exactly), and what is wrong with it when it no longer fits the quote."""
    stored = list(QuoteInstallment.objects.filter(quote=quote).order_by("position", "id")) if quote.pk else []
    if not stored:
        return [], []
    rows = [installments.Row(percent=inst.percent, amount=inst.amount) for inst in stored]
    try:
        amounts = installments.schedule_amounts(
            summary.total, rows, [column for column, _group in installments.summary_columns(summary)], quote.currency
        )
        problems = []
    except installments.ScheduleError as exc:
        amounts = [inst.amount for inst in stored]
        problems = [message for _row, _field, message in exc.errors]
    return [
        {
            "name": inst.name,
            "percent": f"{inst.percent.normalize():f}" if inst.percent is not None else None,
            "amount": f"{amount:f}" if amount is not None else None,
            "due_date": inst.due_date.isoformat() if inst.due_date else None,
        }
        for inst, amount in zip(stored, amounts, strict=True)
    ], problems


# --- parties ----------------------------------------------------------------------------------------------------------


def quote_buyer_contacts(quote: Quote) -> list:
    """The quote's buyer contacts in the order they were added (the signing order of buyers)."""
    through = Quote.contacts.through
    return [
        row.contact
        for row in through.objects.filter(quote_id=quote.pk).select_related("contact").order_by("id")
        if row.contact is not None
    ]


def quote_countersigners(quote: Quote) -> list:
    """The seller's countersigners in the order they were added (they sign after the buyers)."""
    through = Quote.countersigners.through
    return [row.user for row in through.objects.filter(quote_id=quote.pk).select_related("user").order_by("id")]


def _buyer(quote: Quote, contacts: list) -> dict:
    company = quote.company
    first = contacts[0] if contacts else None
    return {
        "name": company.name if company else (first.full_name if first else ""),
        "attention": ", ".join(c.full_name for c in contacts) if company else "",
        "address_line1": company.address_line1 if company else "",
        "postal_code": company.postal_code if company else "",
        "city": company.city if company else "",
        "country": company.country if company else "",
        "vat_number": company.vat_number if company else "",
        "registration_number": company.registration_number if company else "",
        "emails": [c.email for c in contacts if c.email],
    }


def _sender(quote: Quote) -> dict:
    owner = quote.owner
    if owner is None:
        return {"name": "", "email": ""}
    return {"name": owner.full_name or owner.email, "email": owner.email}


def quote_signer_rows(quote: Quote, contacts: list | None = None) -> list[dict]:
    """Who signs, in order: the buyer contacts, then the countersigners. Empty when no signature is required."""
    if not quote.signature_required:
        return []
    contacts = quote_buyer_contacts(quote) if contacts is None else contacts
    rows = [
        {"role": SignerRole.BUYER.value, "name": c.full_name or c.email, "email": c.email, "contact_id": c.pk}
        for c in contacts
    ]
    rows += [
        {"role": SignerRole.COUNTERSIGNER.value, "name": u.full_name or u.email, "email": u.email, "user_id": u.pk}
        for u in quote_countersigners(quote)
    ]
    return rows


# --- the document -----------------------------------------------------------------------------------------------------


def quote_document(
    quote: Quote,
    *,
    issue_date: date,
    number: str | None = None,
    revision: int | None = None,
    lines: list[LineItem] | None = None,
    summary: pricing.DocumentSummary | None = None,
    freeze_logo: bool = False,
) -> dict:
    """The printable document of a quote as it stands now: a draft's preview, or the revision being published
    (`number`, `revision` and `freeze_logo` given). Raises pricing.PricingError when a line cannot be priced."""
    lines = quote_lines(quote) if lines is None else lines
    summary = quote_summary(quote, lines) if summary is None else summary
    contacts = quote_buyer_contacts(quote) if quote.pk else []
    theme = quote_theme(quote, freeze_logo=freeze_logo)
    seller = seller_snapshot()
    if theme["accent_color"]:
        seller["accent_color"] = theme["accent_color"]
    figures = document_figures(lines, summary)
    for line, row in zip(lines, figures["lines"], strict=True):
        row["billing_start"] = _billing_start(line)
    signers = quote_signer_rows(quote, contacts)
    schedule, _problems = quote_schedule_rows(quote, summary)
    return {
        "kind": "quote",
        "number": number,
        "revision": revision,
        "title": quote.title,
        "currency": quote.currency,
        "language": quote.language,
        "issue_date": issue_date.isoformat(),
        "expires_on": quote.expires_on.isoformat(),
        "seller": seller,
        "buyer": _buyer(quote, contacts),
        "sender": _sender(quote),
        **figures,
        "one_time_subtotal": f"{summary.one_time_subtotal:f}",
        "recurring_subtotal": f"{summary.recurring_subtotal:f}",
        "recurring": _recurring(lines, figures["lines"]),
        "installments": schedule,
        "template": {key: value for key, value in theme.items() if key not in ("header_text", "footer_text", "terms")},
        "header_text": theme["header_text"],
        "footer": theme["footer_text"],
        "terms": quote.terms or theme["terms"],
        "comments": quote.comments,
        "logo_path": theme["logo_path"],
        "signature_required": quote.signature_required,
        "signing_order": quote.signing_order,
        "signers": [{key: row[key] for key in ("role", "name", "email")} for row in signers],
        "payment_enabled": quote.payment_enabled,
        "payment_methods": list(quote.payment_methods or []),
    }
