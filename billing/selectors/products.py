"""Reads of the product library: the index with its search and filters, one product with everything on its page,
a product's price in a currency, and folders.

Like the CRM index views, the whole state of the product index lives in its query string, so the CSV export sees
exactly the rows on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import django_filters
from babel.numbers import format_currency, format_decimal
from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from billing.models import BundleComponent, PriceTier, Product, ProductFolder, ProductPrice, TaxRate
from billing.models.choices import Frequency, PricingModel
from billing.selectors.tax_rates import tax_rate_label, tax_rates_active
from commerce_hub.money import current_locale
from commerce_hub.text import clean_search, is_id

__all__ = [
    "ProductIndex",
    "folder_paths",
    "product_detail_queryset",
    "product_index",
    "product_price",
    "product_queryset",
    "tax_rates_active",
    "unit_price_format",
]

STATUSES = [("active", _("Active")), ("archived", _("Archived")), ("all", _("All"))]
SORTS = {
    "name": ["name", "id"],
    "sku": ["sku", "id"],
    "-updated_at": ["-updated_at", "-id"],
}
SORT_LABELS = [("name", _("Name")), ("sku", _("SKU")), ("-updated_at", _("Recently updated"))]


def product_queryset() -> QuerySet[Product]:
    """Products with what an index row shows: folder, tax rate and price list, in three queries for any page."""
    return Product.objects.select_related("folder", "tax_rate").prefetch_related("prices")


def product_detail_queryset() -> QuerySet[Product]:
    return product_queryset().prefetch_related(
        Prefetch("tiers", queryset=PriceTier.objects.order_by("currency", "position", "id")),
        Prefetch("components", queryset=BundleComponent.objects.select_related("component").order_by("id")),
        Prefetch("in_bundles", queryset=BundleComponent.objects.select_related("bundle").order_by("id")),
    )


def product_price(product: Product, currency: str) -> Decimal | None:
    """The product's unit price in `currency` from its price list, or None when it is not sold in that currency.
    Uses the prefetched price list when there is one (product_queryset), so a page of products asks nothing more."""
    prefetched = getattr(product, "_prefetched_objects_cache", {}).get("prices")
    if prefetched is not None:
        return next((p.unit_price for p in prefetched if p.currency == currency), None)
    return ProductPrice.objects.filter(product=product, currency=currency).values_list("unit_price", flat=True).first()


def unit_price_format(amount: Decimal | None, currency: str) -> str:
    """A unit price in the reader's language with every decimal it has (up to 6), and at least the currency's own."""
    if amount is None:
        return ""
    return format_currency(Decimal(amount).normalize(), currency, locale=current_locale(), decimal_quantization=False)


def decimal_format(value: Decimal | None) -> str:
    """A quantity (package size, tier bound) in the reader's language, without trailing zeros."""
    if value is None:
        return ""
    return format_decimal(Decimal(value).normalize(), format="#,##0.######", locale=current_locale())


# --- folders ----------------------------------------------------------------------------------------------------


def folder_paths() -> list[tuple[int, str]]:
    """(id, "Parent / Child") of every folder, ordered by path; folders are few, so one query builds all paths."""
    rows = {pk: (name, parent) for pk, name, parent in ProductFolder.objects.values_list("pk", "name", "parent_id")}

    def path(pk: int, depth: int = 0) -> str:
        name, parent = rows[pk]
        if parent is None or parent not in rows or depth > 20:
            return name
        return f"{path(parent, depth + 1)} / {name}"

    return sorted(((pk, path(pk)) for pk in rows), key=lambda item: item[1].lower())


def folder_descendants(folder_id: int) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent in ProductFolder.objects.values_list("pk", "parent_id"):
        children.setdefault(parent, []).append(pk)
    found, stack = set(), [folder_id]
    while stack:
        pk = stack.pop()
        if pk not in found:
            found.add(pk)
            stack.extend(children.get(pk, []))
    return found


# --- index --------------------------------------------------------------------------------------------------------


def _folder_choices():
    return [("none", _("No folder"))] + [(str(pk), label) for pk, label in folder_paths()]


def _tax_rate_choices():
    return [(str(r.pk), tax_rate_label(r)) for r in TaxRate.objects.all()]


class ProductFilter(django_filters.FilterSet):
    folder = django_filters.ChoiceFilter(label=_("Folder"), choices=_folder_choices, method="filter_folder")
    pricing_model = django_filters.MultipleChoiceFilter(
        label=_("Pricing model"), choices=PricingModel.choices, distinct=False
    )
    frequency = django_filters.MultipleChoiceFilter(
        label=_("Billing frequency"), field_name="billing_frequency", choices=Frequency.choices, distinct=False
    )
    currency = django_filters.MultipleChoiceFilter(
        label=_("Priced in"),
        choices=[(c, c) for c in settings.CURRENCIES],
        method="filter_currency",
        distinct=False,
    )
    tax_rate = django_filters.MultipleChoiceFilter(
        label=_("Tax rate"), field_name="tax_rate_id", choices=_tax_rate_choices, distinct=False
    )
    bundle = django_filters.ChoiceFilter(
        label=_("Bundles"),
        choices=[("yes", _("Only bundles")), ("no", _("No bundles"))],
        method="filter_bundle",
    )

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_folder(self, queryset, name, value):
        if value == "none":
            return queryset.filter(folder__isnull=True)
        if is_id(value):
            return queryset.filter(folder_id__in=folder_descendants(int(value)))
        return queryset

    def filter_currency(self, queryset, name, value):
        if not value:
            return queryset
        # EXISTS rather than a join: a product priced in two of the chosen currencies is still one row.
        return queryset.filter(Exists(ProductPrice.objects.filter(product=OuterRef("pk"), currency__in=value)))

    def filter_bundle(self, queryset, name, value):
        return queryset.filter(is_bundle=value == "yes") if value in ("yes", "no") else queryset


@dataclass
class ProductIndex:
    filterset: ProductFilter
    queryset: QuerySet[Product]
    ordering: list[str]
    search: str
    status: str
    sort: str
    active_filters: int


def product_index(params: QueryDict) -> ProductIndex:
    """Search (name, description, SKU), status (active by default), filters and sort, from the query string."""
    qs = product_queryset()
    status = params.get("status", "active")
    if status not in dict(STATUSES):
        status = "active"
    if status != "all":
        qs = qs.filter(is_archived=status == "archived")
    search = clean_search(params.get("q", ""))
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(sku__icontains=search) | Q(description__icontains=search))
    filterset = ProductFilter(params, queryset=qs)
    # A filter value that is not one of its choices (a folder deleted meanwhile) matches nothing, never everything.
    qs = filterset.qs if filterset.is_valid() else qs.none()
    sort = params.get("sort", "name")
    if sort not in SORTS:
        sort = "name"
    active = sum(1 for name in filterset.filters if params.getlist(name) and any(params.getlist(name)))
    return ProductIndex(
        filterset=filterset,
        queryset=qs,
        ordering=SORTS[sort],
        search=search,
        status=status,
        sort=sort,
        active_filters=active,
    )
