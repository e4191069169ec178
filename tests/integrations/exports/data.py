"""Known documents for the export tests (alpha tenant): a Dutch seller, Dutch and Norwegian buyers."""

from datetime import date
from decimal import Decimal

from django.utils.text import slugify

from billing.documents import invoice_settings_get
from billing.models import DocumentAdjustment, LineItem
from billing.services.credit_notes import credit_note_create
from billing.services.invoices import invoice_finalize
from tests.billing.invoicing import buyer_make, draft_make, rate, seller_ready


def bank_ready():
    settings = invoice_settings_get()
    settings.iban, settings.bic, settings.bank_account_holder = "NL91ABNA0417164300", "ABNANL2A", "Alpha Handel B.V."
    settings.save(update_fields=["iban", "bic", "bank_account_holder"])


def nl_buyer(name="Bakkerij de Molen B.V.", **fields):
    return buyer_make(
        name=name,
        email=fields.pop(
            "email", "inkoop@molen.example" if name.startswith("Bakkerij") else f"inkoop@{slugify(name)}.example"
        ),
        address_line1="Molenstraat 8",
        postal_code="3511 AB",
        city="Utrecht",
        country="NL",
        vat_number=fields.pop("vat_number", "NL123456782B90"),
        registration_number=fields.pop("registration_number", "87654321"),
        **fields,
    )


def be_buyer():
    return buyer_make(
        name="Brouwerij Zuid BV",
        email="boekhouding@zuid.example",
        address_line1="Grote Markt 3",
        postal_code="2000",
        city="Antwerpen",
        country="BE",
        vat_number="BE0123456749",
        registration_number="0123456749",
    )


def finalize(lines, *, company, contact, currency="EUR", issue_date=date(2026, 3, 2), adjustments=(), **extra):
    seller_ready(address_line2="")
    bank_ready()
    invoice = draft_make(lines=lines, company=company, contacts=[contact], currency=currency, **extra)
    for position, (kind, label, amount) in enumerate(adjustments):
        DocumentAdjustment.objects.create(
            invoice=invoice, kind=kind, label=label, amount=Decimal(amount), position=position
        )
    return invoice_finalize(invoice=invoice, actor=None, issue_date=issue_date)


def nl_invoice(**extra):
    """21% and 9% VAT, a line discount and a one-time discount: 2 x 100.00 + 3 x 12.50 (- 10%) + 1 x 49.99 at 9%."""
    company, contact = nl_buyer()
    seller_ready(address_line2="")
    bank_ready()
    invoice = draft_make(
        lines=[
            ("Consulting", "2", "100.00", "BTW 21%"),
            ("Workshop", "3", "12.50", "BTW 21%"),
            ("Handbook", "1", "49.99", "BTW 9%"),
        ],
        company=company,
        contacts=[contact],
        currency="EUR",
    )
    LineItem.objects.filter(invoice=invoice, name="Workshop").update(
        discount_type="percent", discount_value=Decimal(10)
    )
    for position, (kind, label, amount) in enumerate(extra.pop("adjustments", ())):
        DocumentAdjustment.objects.create(
            invoice=invoice, kind=kind, label=label, amount=Decimal(amount), position=position
        )
    return invoice_finalize(invoice=invoice, actor=None, issue_date=extra.pop("issue_date", date(2026, 3, 2)))


def reverse_charge_invoice():
    company, contact = be_buyer()
    return finalize([("Software licence", "4", "250.00", "EU reverse charge")], company=company, contact=contact)


def nok_invoice(issue_date=date(2026, 3, 31)):
    company, contact = buyer_make(name="Fjordline AS", email="kari@fjordline.example", registration_number="974760673")
    return finalize(
        [("Rådgivning", "3", "1500.00", "MVA 0%")],
        company=company,
        contact=contact,
        currency="NOK",
        issue_date=issue_date,
    )


def credit_whole(invoice, reason="Returned"):
    return credit_note_create(invoice=invoice, actor=None, whole=True, reason=reason)


__all__ = ["rate"]
