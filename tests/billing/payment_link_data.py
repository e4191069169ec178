"""Test data for payment links: a link with lines (alpha tenant unless said), the buyer's form, and paying."""

from __future__ import annotations

from decimal import Decimal

from billing.documents import invoice_settings_get
from billing.models import LineItem, PaymentLink
from billing.services.payment_links import PaymentLinkValues, payment_link_create
from commerce_hub.idempotency.services import key_new
from tests.billing.invoicing import rate, seller_ready

HOSTING = ("Hosting", "1", "50.00", "BTW 21%", "monthly")  # 60.50 a month with VAT
SETUP = ("Setup", "1", "100.00", "BTW 21%", "one_time")  # 121.00 with VAT


def link_make(*, lines=(SETUP, HOSTING), actor=None, currency="EUR", **values) -> PaymentLink:
    """A link with `lines` given as (name, quantity, unit price, tax rate name or None, frequency)."""
    seller_ready()
    settings = invoice_settings_get()
    settings.payment_methods = ["card", "bank_transfer"]
    settings.email = "billing@alpha.example"
    settings.save(update_fields=["payment_methods", "email"])
    fields = {"name": "Alpha Cloud", "currency": currency, "payment_methods": ["card"], **values}
    link = payment_link_create(values=PaymentLinkValues(**fields), actor=actor)
    for position, (name, quantity, price, tax, frequency) in enumerate(lines):
        LineItem.objects.create(
            payment_link=link,
            position=position,
            name=name,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            currency=currency,
            tax_rate=rate(tax) if tax else None,
            frequency=frequency,
        )
    return link


def hosted_url(link: PaymentLink) -> str:
    return f"/billing/l/{link.public_token}/"


def buyer_form(**fields) -> dict:
    return {
        "email": "kari@fjordline.example",
        "name": "Kari Nordmann",
        "company_name": "Fjordline AS",
        "idempotency_key": key_new(),
        **fields,
    }
