"""Test data for quotes: a deal with priced lines, its buyer, and quotes made from it (alpha tenant)."""

import html as html_module
import re
from decimal import Decimal

from django.test import Client

from billing.models import DocumentAdjustment, LineItem, Quote, TaxRate
from billing.services.quotes import quote_create_from_deal
from commerce_hub.accounts.models import Role
from crm.demo_data import default_pipeline_ensure
from crm.models import Company, Contact, Deal
from tests.conftest import user_make

HTMX = {"HTTP_HX_REQUEST": "true"}


def first_stage():
    return default_pipeline_ensure().stages.order_by("position", "id").first()


def buyer_make(name="Fjordline AS", email="kari@fjordline.example", language="nb"):
    company = Company.objects.create(name=name, country="NO", language=language, currency="NOK")
    contact = Contact.objects.create(first_name="Kari", last_name="Nordmann", email=email, company=company)
    return company, contact


def deal_make(*, name="Warehouse scanners", currency="EUR", company=None, contacts=(), owner=None, **extra) -> Deal:
    stage = first_stage()
    deal = Deal.objects.create(
        name=name, pipeline=stage.pipeline, stage=stage, amount_currency=currency, company=company, owner=owner, **extra
    )
    deal.contacts.set(contacts)
    return deal


def line_make(owner_field: str, owner, *, name, quantity, price, position=0, tax="BTW 21%", **extra) -> LineItem:
    return LineItem.objects.create(
        **{owner_field: owner},
        name=name,
        position=position,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        currency=extra.pop("currency", "EUR"),
        tax_rate=TaxRate.objects.get(name=tax) if tax else None,
        **extra,
    )


def priced_deal(**kwargs) -> Deal:
    """A deal with two one-time lines and a 10 % discount:

    Scanner 2 × 199.99 = 399.98, Cable 3 × 10.00 = 30.00: subtotal 429.98; discount 10 % = 43.00;
    VAT 21 % on 386.98 = 81.27; total 468.25. Its lines' TCV (the deal amount) is 429.98.
    """
    deal = deal_make(**kwargs)
    line_make("deal", deal, name="Scanner", quantity="2", price="199.99", position=0, sku="SCN-1")
    line_make("deal", deal, name="Cable", quantity="3", price="10.00", position=1)
    DocumentAdjustment.objects.create(deal=deal, kind="discount", label="Loyalty", percent=Decimal("10"), position=0)
    return deal


def quote_make(deal=None, *, actor=None, **changes) -> Quote:
    quote = quote_create_from_deal(deal=deal or priced_deal(), actor=actor)
    if changes:
        Quote.objects.filter(pk=quote.pk).update(**changes)
        quote.refresh_from_db()
    return quote


def client_for(role: str = Role.SALES, **extra) -> Client:
    client = Client(HTTP_HOST="alpha.localhost")
    user = user_make(role, **extra)
    client.force_login(user)
    client.user = user
    return client


def text_of(response) -> str:
    """The page's text without tags, spaces collapsed: what a reader sees."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_module.unescape(re.sub(r"<[^>]+>", " ", html))).strip()
