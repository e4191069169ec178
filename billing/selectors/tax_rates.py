"""Reads of the tax rates library."""

from __future__ import annotations

from django.db.models import QuerySet

from billing.models import TaxRate
from commerce_hub.organization.models import COUNTRY_CHOICES


def tax_rates_active() -> QuerySet[TaxRate]:
    """The rates offered for new products and line items, in the library's order (country, position)."""
    return TaxRate.objects.filter(is_archived=False)


def tax_rate_label(tax_rate: TaxRate) -> str:
    return f"{tax_rate.name} ({tax_rate.country})" if tax_rate.country else tax_rate.name


def tax_rate_choices(*, keep: TaxRate | None = None) -> list[tuple[str, str]]:
    """(id, label) of the active rates, plus `keep` (an archived rate a product still has) so editing the product
    does not silently drop it."""
    rates = list(tax_rates_active())
    if keep is not None and keep.is_archived:
        rates.append(keep)
    return [(str(rate.pk), tax_rate_label(rate)) for rate in rates]


def tax_rates_by_country() -> list[tuple[str, str, list[TaxRate]]]:
    """(country code, country name, rates) for the settings page: countries in the order of the country list,
    rates that apply anywhere (no country) last."""
    names = dict(COUNTRY_CHOICES)
    groups: dict[str, list[TaxRate]] = {}
    for rate in TaxRate.objects.all():
        groups.setdefault(rate.country, []).append(rate)
    order = [code for code, _label in COUNTRY_CHOICES if code in groups]
    order += sorted(code for code in groups if code and code not in names)
    if "" in groups:
        order.append("")
    return [(code, str(names.get(code, code)), groups[code]) for code in order]
