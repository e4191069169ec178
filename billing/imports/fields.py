"""The columns of a product CSV, shared by the export and the import so that an exported file imports as is.

Prices are one column per currency ("price_EUR"); tiers one column per currency ("tiers_EUR") written as
"up_to:unit_price[:flat_fee]" joined by " | ", with "*" as the open end ("10:5.00 | *:4.00"); bundle components as
"SKU:quantity" joined by " | ". Numbers are written with a '.' decimal point; the import also reads the user's own
notation.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from billing.models import Product
from commerce_hub.text import csv_safe
from crm.fields import FieldSpec

OPEN_END = "*"
FIXED_COLUMNS = [
    ("sku", _("SKU"), True),
    ("name", _("Name"), True),
    ("description", _("Description"), False),
    ("folder", _("Folder"), False),
    ("status", _("Status"), False),
    ("pricing_model", _("Pricing model"), False),
    ("package_size", _("Units per package"), False),
    ("billing_frequency", _("Billing frequency"), False),
    ("term_months", _("Term (months)"), False),
    ("term_weeks", _("Term (weeks)"), False),
    ("tax_rate", _("Tax rate"), False),
    ("unit_cost", _("Unit cost"), False),
    ("cost_currency", _("Cost currency"), False),
    ("bundle_pricing", _("Bundle price"), False),
    ("components", _("Components"), False),
]
# Import only: one price in the currency of the row, for files that have a "price" and a "currency" column.
PAIR_COLUMNS = [("unit_price", _("Unit price"), False), ("currency", _("Currency"), False)]

# Header names people use besides the keys and labels (English, Dutch, Norwegian), compared like
# commerce_hub.imports.mapping compares them: lowercased, letters and digits only.
SYNONYMS = {
    "sku": ["code", "product code", "item code", "article number", "artikelnummer", "artikelcode", "varenummer"],
    "name": ["product", "product name", "productnaam", "naam", "produkt", "produktnavn", "navn", "title"],
    "description": ["omschrijving", "beschrijving", "beskrivelse"],
    "folder": ["category", "categorie", "kategori", "map", "mappe", "group", "groep", "gruppe"],
    "unit_price": ["price", "prijs", "pris", "sales price", "verkoopprijs", "salgspris", "list price"],
    "currency": ["valuta", "currency code"],
    "tax_rate": ["tax", "vat", "vat rate", "btw", "btw tarief", "mva", "mva sats", "tax name"],
    "billing_frequency": ["frequency", "billing period", "factuurfrequentie", "frekvens", "interval"],
    "unit_cost": ["cost", "cost price", "kostprijs", "inkoopprijs", "kostpris", "innkjøpspris"],
    "status": ["archived", "active"],
}


def currency_columns(currencies) -> list[str]:
    """Currencies in the order of settings.CURRENCIES, any others (kept from earlier settings) after them."""
    known = [c for c in settings.CURRENCIES if c in currencies]
    return known + sorted(c for c in currencies if c not in settings.CURRENCIES)


def import_specs() -> list[FieldSpec]:
    """What a CSV column can fill, as FieldSpecs, so the import pipeline's mapping guess and form read them."""
    specs = [FieldSpec(key=key, label=label, type="text", attr=key, required=req) for key, label, req in FIXED_COLUMNS]
    specs += [FieldSpec(key=key, label=label, type="text", attr=key) for key, label, _req in PAIR_COLUMNS]
    for currency in settings.CURRENCIES:
        specs.append(FieldSpec(key=f"price_{currency}", label=f"price_{currency}", type="price", attr=""))
    for currency in settings.CURRENCIES:
        specs.append(FieldSpec(key=f"tiers_{currency}", label=f"tiers_{currency}", type="tiers", attr=""))
    return specs


def export_header(*, price_currencies, tier_currencies) -> list[str]:
    return (
        [key for key, _label, _req in FIXED_COLUMNS]
        + [f"price_{c}" for c in currency_columns(price_currencies)]
        + [f"tiers_{c}" for c in currency_columns(tier_currencies)]
    )


def plain_decimal(value: Decimal | None, *, min_decimals: int = 0) -> str:
    """'.' decimals without trailing zeros beyond `min_decimals`: 12.50, 0.000001, 10."""
    if value is None:
        return ""
    text = format(Decimal(value).normalize(), "f")
    whole, _sep, fraction = text.partition(".")
    fraction = fraction.ljust(min_decimals, "0")
    return f"{whole}.{fraction}" if fraction else whole


def tiers_text(tiers) -> str:
    parts = []
    for tier in tiers:
        up_to = OPEN_END if tier.up_to is None else plain_decimal(tier.up_to)
        part = f"{up_to}:{plain_decimal(tier.unit_price, min_decimals=2)}"
        if tier.flat_fee:
            part += f":{plain_decimal(tier.flat_fee, min_decimals=2)}"
        parts.append(part)
    return " | ".join(parts)


def components_text(components) -> str:
    return " | ".join(f"{c.component.sku}:{plain_decimal(c.quantity)}" for c in components)


def export_row(product: Product, header: list[str], *, folders: dict[int, str]) -> list[str]:
    """One product as the cells of `header`; the product comes with prices, tiers and components prefetched.
    `folders` maps folder ids to their paths ("Hardware / Cables"), which the import reads back."""
    prices = {p.currency: p.unit_price for p in product.prices.all()}
    tiers: dict[str, list] = {}
    for tier in sorted(product.tiers.all(), key=lambda t: (t.currency, t.position, t.pk)):
        tiers.setdefault(tier.currency, []).append(tier)
    values = {
        "sku": product.sku,
        "name": product.name,
        "description": product.description,
        "folder": folders.get(product.folder_id, "") if product.folder_id else "",
        "status": "archived" if product.is_archived else "active",
        "pricing_model": product.pricing_model,
        "package_size": plain_decimal(product.package_size),
        "billing_frequency": product.billing_frequency,
        "term_months": "" if product.term_months is None else str(product.term_months),
        "term_weeks": "" if product.term_weeks is None else str(product.term_weeks),
        "tax_rate": product.tax_rate.name if product.tax_rate_id else "",
        "unit_cost": plain_decimal(product.unit_cost, min_decimals=2),
        "cost_currency": product.cost_currency if product.unit_cost is not None else "",
        "bundle_pricing": product.bundle_pricing if product.is_bundle else "",
        "components": components_text(product.components.all()) if product.is_bundle else "",
    }
    row = []
    for column in header:
        if column.startswith("price_"):
            row.append(plain_decimal(prices.get(column.removeprefix("price_")), min_decimals=2))
        elif column.startswith("tiers_"):
            row.append(tiers_text(tiers.get(column.removeprefix("tiers_"), [])))
        else:
            row.append(csv_safe(values[column]))
    return row


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(raw: str) -> str:
    """A text cell as the user meant it: without the quote an export puts before a formula-like value
    (commerce_hub.text.csv_safe), and without NUL characters, which Postgres cannot store."""
    text = (raw or "").replace("\x00", "").strip()
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_STARTS else text
