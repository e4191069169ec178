"""Test data for invoices: companies, contacts, drafts with lines, and finalized invoices (alpha tenant)."""

import re
from decimal import Decimal

from billing.models import LineItem, TaxRate
from billing.services.invoices import invoice_create, invoice_finalize
from commerce_hub.idempotency.services import key_new
from commerce_hub.idempotency.web import FIELD
from commerce_hub.organization.models import OrganizationProfile
from commerce_hub.organization.selectors import organization_profile_forget
from crm.models import Company, Contact


def seller_ready(**fields) -> OrganizationProfile:
    """The alpha tenant's profile with what an invoice prints."""
    defaults = {
        "legal_name": "Alpha Handel B.V.",
        "address_line1": "Keizersgracht 1",
        "postal_code": "1015 AA",
        "city": "Amsterdam",
        "country": "NL",
        "vat_number": "NL000099998B57",
        "registration_number": "12345678",
    }
    OrganizationProfile.objects.filter(pk=1).update(**(defaults | fields))
    organization_profile_forget()
    return OrganizationProfile.objects.get(pk=1)


def buyer_make(name="Fjordline AS", email="kari@fjordline.example", language="en", **company_fields):
    company = Company.objects.create(
        name=name,
        address_line1=company_fields.pop("address_line1", "Strandgaten 5"),
        postal_code=company_fields.pop("postal_code", "5013"),
        city=company_fields.pop("city", "Bergen"),
        country=company_fields.pop("country", "NO"),
        vat_number=company_fields.pop("vat_number", "NO974760673MVA"),
        language=language,
        **company_fields,
    )
    contact = Contact.objects.create(first_name="Kari", last_name="Nordmann", email=email, company=company)
    return company, contact


def rate(name="BTW 21%") -> TaxRate:
    return TaxRate.objects.get(name=name)


def draft_make(
    *,
    actor=None,
    currency="EUR",
    lines=(("Consulting", "2", "100.00", "BTW 21%"),),
    company=None,
    contacts=None,
    **extra,
):
    """A draft with lines given as (name, quantity, unit price, tax rate name or None)."""
    if company is None and contacts is None:
        company, contact = buyer_make(email=f"buyer-{Company.objects.count()}@example.com")
        contacts = [contact]
    invoice = invoice_create(actor=actor, company=company, contacts=contacts or [], currency=currency, **extra)
    for position, (name, quantity, price, tax) in enumerate(lines):
        LineItem.objects.create(
            invoice=invoice,
            position=position,
            name=name,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            currency=currency,
            tax_rate=rate(tax) if tax else None,
        )
    return invoice


def finalized_make(*, actor=None, **kwargs):
    seller_ready()
    return invoice_finalize(invoice=draft_make(actor=actor, **kwargs), actor=actor)


def key() -> dict:
    """A fresh idempotency key, as a form carries it: post {**data, **key()}."""
    return {FIELD: key_new()}


def form_key(response) -> str:
    """The idempotency key a rendered form carries."""
    return re.search(rf'name="{FIELD}" value="([^"]+)"', response.content.decode()).group(1)
