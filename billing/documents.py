"""What an invoice prints, as one plain dict (the "document"): seller, buyer, lines, VAT breakdown, totals, terms,
bank details, texts and logo. A draft's document is built live (pro-forma, preview); finalizing stores it as the
invoice's snapshot, so the PDF, the hosted page and every later reprint show exactly what was finalized even when
the company profile, the buyer or the settings change afterwards. Amounts are Decimal strings; figures come from
the pricing engine (billing.pricing) through the editor adapter.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from billing import editor, pricing
from billing.models import DocumentAdjustment, Invoice, InvoiceSettings, LineItem
from commerce_hub.organization.selectors import organization_profile_get


def invoice_settings_get() -> InvoiceSettings:
    settings, _created = InvoiceSettings.objects.get_or_create(
        pk=1, defaults={"payment_methods": ["bank_transfer", "card"], "payment_terms_days": 14}
    )
    return settings


def invoice_lines(invoice: Invoice) -> list[LineItem]:
    return list(LineItem.objects.filter(invoice=invoice).select_related("tax_rate").order_by("position", "id"))


def invoice_adjustments(invoice: Invoice) -> list[DocumentAdjustment]:
    return list(DocumentAdjustment.objects.filter(invoice=invoice).order_by("position", "id"))


def invoice_summary(invoice: Invoice, lines: list[LineItem] | None = None) -> pricing.DocumentSummary:
    """The engine's totals of a draft (raises pricing.PricingError when something cannot be priced)."""
    lines = invoice_lines(invoice) if lines is None else lines
    return editor.summary(lines, invoice_adjustments(invoice), currency=invoice.currency)


def terms_days(invoice: Invoice, settings: InvoiceSettings) -> int:
    return invoice.payment_terms_days if invoice.payment_terms_days is not None else settings.payment_terms_days


def due_date_for(invoice: Invoice, issue_date: date, settings: InvoiceSettings) -> date:
    return invoice.custom_due_date or issue_date + timedelta(days=terms_days(invoice, settings))


def _money(value: Decimal) -> str:
    return f"{value:f}"


def seller_snapshot() -> dict:
    """The seller as documents print it (frozen into each at issue): the organization profile's legal details."""
    profile = organization_profile_get()
    return {
        "legal_name": profile.legal_name,
        "address_line1": profile.address_line1,
        "address_line2": profile.address_line2,
        "postal_code": profile.postal_code,
        "city": profile.city,
        "country": profile.country,
        "vat_number": profile.vat_number,
        "registration_number": profile.registration_number,
        "accent_color": profile.accent_color,
    }


def _buyer(invoice: Invoice) -> dict:
    contacts = list(invoice.contacts.order_by("last_name", "first_name", "id")) if invoice.pk else []
    company = invoice.company
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


def _average(result: pricing.LineResult, line: LineItem) -> str | None:
    if line.pricing_model not in ("volume", "graduated"):
        return None
    average = pricing.average_unit_price(gross=result.gross, quantity=line.quantity)
    return f"{average.normalize():f}" if average is not None else None


def document_lines(lines: list[LineItem], summary: pricing.DocumentSummary) -> list[dict]:
    """The printed lines of a priced document (invoices and quotes store the same keys)."""
    rows = []
    for index, (line, result) in enumerate(zip(lines, summary.lines, strict=True)):
        share = summary.apportioned_discounts[index] if summary.apportioned_discounts else Decimal(0)
        rate = line.tax_rate
        rows.append(
            {
                "name": line.name,
                "description": line.description,
                "sku": line.sku,
                "quantity": f"{line.quantity.normalize():f}",
                "unit_price": f"{line.unit_price.normalize():f}",
                "pricing_model": line.pricing_model,
                "package_size": f"{line.package_size.normalize():f}" if line.package_size else None,
                "average_unit_price": _average(result, line),
                "frequency": line.frequency,
                "discount": _money(result.discount),
                "net": _money(result.net),
                # The line's share of the VAT base once one-time discounts are apportioned: what a credit note of
                # this line takes back.
                "vat_base": _money(result.net - share),
                "tax_rate": f"{(Decimal(0) if rate is None else rate.rate):f}",
                "tax_label": rate.name if rate else "",
                "reverse_charge": bool(rate and rate.is_reverse_charge),
            }
        )
    return rows


def document_figures(lines: list[LineItem], summary: pricing.DocumentSummary) -> dict:
    """What every priced document prints from the engine: its lines, one-time adjustments, VAT groups and totals,
    under the same keys for invoices and quotes, so one template renders them (pdf/_lines.html, _document.html)."""
    return {
        "lines": document_lines(lines, summary),
        "adjustments": [
            {
                "kind": str(a.kind),
                "label": a.label,
                "percent": f"{a.percent:f}" if a.percent else None,
                "amount": _money(a.amount),
            }
            for a in summary.adjustments
        ],
        "vat_groups": [
            {
                "rate": f"{g.rate:f}",
                "label": g.label,
                "reverse_charge": g.reverse_charge,
                "base": _money(g.base),
                "vat": _money(g.vat),
            }
            for g in summary.vat_groups
        ],
        "subtotal": _money(summary.subtotal),
        "discount_total": _money(summary.one_time_discount_total),
        "fee_total": _money(summary.one_time_fee_total),
        "tax_total": _money(summary.one_time_tax_total),
        "vat_total": _money(summary.vat_total),
        "total": _money(summary.total),
        "reverse_charge": summary.reverse_charge,
    }


def logo_freeze() -> str:
    """A copy of the current branding logo that no later upload can replace: stored under its content hash, so
    every invoice finalized with the same logo shares one file. Empty when there is no logo."""
    profile = organization_profile_get()
    if not profile.logo:
        return ""
    try:
        with profile.logo.open("rb") as fh:
            content = fh.read()
    except OSError:
        return ""
    suffix = PurePosixPath(profile.logo.name).suffix.lower() or ".png"
    path = f"invoice-logos/{hashlib.sha256(content).hexdigest()}{suffix}"
    if not default_storage.exists(path):
        default_storage.save(path, ContentFile(content))
    return path


def current_logo_path() -> str:
    profile = organization_profile_get()
    return profile.logo.name if profile.logo else ""


def invoice_document(
    invoice: Invoice,
    *,
    issue_date: date,
    number: str | None = None,
    lines: list[LineItem] | None = None,
    summary: pricing.DocumentSummary | None = None,
    logo_path: str | None = None,
) -> dict:
    """The printable document of an invoice as it stands now (a draft, or the one being finalized)."""
    settings = invoice_settings_get()
    lines = invoice_lines(invoice) if lines is None else lines
    summary = invoice_summary(invoice, lines) if summary is None else summary
    return {
        "kind": "invoice",
        "number": number,
        "currency": invoice.currency,
        "language": invoice.language,
        "issue_date": issue_date.isoformat(),
        "due_date": due_date_for(invoice, issue_date, settings).isoformat(),
        "payment_terms_days": terms_days(invoice, settings) if not invoice.custom_due_date else None,
        "payment_methods": list(invoice.payment_methods or settings.payment_methods),
        "seller": seller_snapshot(),
        "buyer": _buyer(invoice),
        **document_figures(lines, summary),
        "bank": {"holder": settings.bank_account_holder, "iban": settings.iban, "bic": settings.bic},
        "comments": invoice.comments,
        "footer": settings.footer_text,
        "legal_text": settings.legal_text,
        "logo_path": current_logo_path() if logo_path is None else logo_path,
        "late_fee_for": invoice.late_fee_for.number if invoice.late_fee_for_id else None,
    }
