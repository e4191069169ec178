"""Writes to the product library: products with their price list, tiers and bundle components, and folders.

Every rule a product must follow is checked here, in product_values_errors (no database) and
product_references_errors (SKU, folder, tax rate, components), so the product form and the CSV import refuse exactly
the same input. Errors are keyed by field ("sku", "term"), by list ("prices") or by list row ("prices.1.unit_price").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import events, pricing
from billing.models import BundleComponent, PriceTier, Product, ProductFolder, ProductPrice, TaxRate
from billing.models.choices import Frequency, PricingModel
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.services import event_emit
from commerce_hub.money import MONEY_MAX, money_bound_text

MAX_DECIMALS = 6
MAX_AMOUNT = MONEY_MAX  # one bound for every amount (commerce_hub.money); prices, quantities and tier bounds alike
# Weekly frequencies count their term in weeks, the others in months (billing.pricing.FREQUENCY_RULES).
PERIOD_WEEKS = {Frequency.WEEKLY: 1, Frequency.BIWEEKLY: 2}
TIERED = (PricingModel.VOLUME, PricingModel.GRADUATED)


@dataclass
class PriceInput:
    currency: str
    unit_price: Decimal


@dataclass
class TierInput:
    currency: str
    up_to: Decimal | None  # None: this tier and above
    unit_price: Decimal
    flat_fee: Decimal = Decimal(0)


@dataclass
class ComponentInput:
    component_id: int
    quantity: Decimal


@dataclass
class ProductInput:
    name: str
    sku: str
    description: str = ""
    folder_id: int | None = None
    new_folder: str = ""  # a top-level folder to file the product in, created when no folder has this name
    unit_cost: Decimal | None = None
    cost_currency: str = ""
    pricing_model: str = PricingModel.FLAT
    package_size: Decimal | None = None
    billing_frequency: str = Frequency.ONE_TIME
    term_months: int | None = None
    term_weeks: int | None = None
    tax_rate_id: int | None = None
    is_bundle: bool = False
    bundle_pricing: str = ""
    is_archived: bool = False  # only read on create (the import's status column); archiving has its own service
    prices: list[PriceInput] = field(default_factory=list)
    tiers: list[TierInput] = field(default_factory=list)
    components: list[ComponentInput] = field(default_factory=list)

    def normalized(self) -> ProductInput:
        """Trimmed text and upper-case currencies; a cost without an amount has no currency."""
        self.name = (self.name or "").strip()
        self.sku = (self.sku or "").strip()
        self.description = (self.description or "").strip()
        self.new_folder = (self.new_folder or "").strip()
        self.cost_currency = (self.cost_currency or "").strip().upper() if self.unit_cost is not None else ""
        for row in [*self.prices, *self.tiers]:
            row.currency = (row.currency or "").strip().upper()
        return self


# --- checks without the database ------------------------------------------------------------------------------------


def amount_errors(value: Decimal, *, positive: bool = False) -> list[str]:
    """A price, cost or quantity: not negative (or above zero), at most 6 decimals, fits the column."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        return [_("Enter a number.")]
    if positive and value <= 0:
        return [_("Enter a number above 0.")]
    if value < 0:
        return [_("Enter 0 or more.")]
    if value.normalize().as_tuple().exponent < -MAX_DECIMALS:
        return [_("Use at most 6 decimals.")]
    if value > MAX_AMOUNT:
        return [_("Enter a number below %(bound)s.") % {"bound": money_bound_text()}]
    return []


def currency_errors(currency: str) -> list[str]:
    if currency not in settings.CURRENCIES:
        return [_("“%(value)s” is not a currency we accept.") % {"value": currency}]
    return []


def term_errors(frequency: str, term_months: int | None, term_weeks: int | None) -> list[str]:
    """The pricing engine's rule, so a product's default term is one its lines can use: weekly frequencies take
    their term in weeks, the others in months, one-time products none; a term is whole billing periods."""
    line = pricing.LineInput(
        quantity=Decimal(1),
        unit_price=Decimal(0),
        currency="EUR",
        frequency=pricing.Frequency(frequency),
        term_months=term_months,
        term_weeks=term_weeks,
    )
    return [message for name, message in pricing.validate_line(line) if name in ("term_months", "term_weeks")]


def _tiers_errors(data: ProductInput, errors: dict[str, list[str]]) -> None:
    price_currencies = {p.currency for p in data.prices}
    by_currency: dict[str, list[tuple[int, TierInput]]] = defaultdict(list)
    for i, tier in enumerate(data.tiers):
        by_currency[tier.currency].append((i, tier))
        for name in ("unit_price", "flat_fee"):
            for message in amount_errors(getattr(tier, name)):
                errors.setdefault(f"tiers.{i}.{name}", []).append(message)
        if tier.up_to is not None:
            for message in amount_errors(tier.up_to, positive=True):
                errors.setdefault(f"tiers.{i}.up_to", []).append(message)
    for currency, rows in by_currency.items():
        first = rows[0][0]
        if currency_errors(currency):
            errors.setdefault(f"tiers.{first}.currency", []).extend(currency_errors(currency))
            continue
        if currency not in price_currencies:
            errors.setdefault(f"tiers.{first}.currency", []).append(
                _("Add a %(currency)s price to the price list, or remove these tiers.") % {"currency": currency}
            )
        previous = None
        for position, (i, tier) in enumerate(rows):
            last = position == len(rows) - 1
            if tier.up_to is None and not last:
                errors.setdefault(f"tiers.{i}.up_to", []).append(_("Only the last tier can be open-ended."))
            elif tier.up_to is not None and last:
                errors.setdefault(f"tiers.{i}.up_to", []).append(
                    _("Leave “up to” empty on the last tier, so every quantity has a price.")
                )
            if tier.up_to is not None and previous is not None and tier.up_to <= previous:
                errors.setdefault(f"tiers.{i}.up_to", []).append(_("Each tier must go higher than the tier before it."))
            if tier.up_to is not None:
                previous = tier.up_to
    for currency in sorted(price_currencies - set(by_currency)):
        if not currency_errors(currency):
            errors.setdefault("tiers", []).append(_("Add tiers for %(currency)s.") % {"currency": currency})


def product_values_errors(data: ProductInput) -> dict[str, list[str]]:
    """Every rule that needs no database: text lengths, amounts, currencies, pricing model, tiers, term, bundle."""
    errors: dict[str, list[str]] = {}

    def add(key: str, messages: list[str]) -> None:
        if messages:
            errors.setdefault(key, []).extend(messages)

    if not data.name:
        add("name", [_("This field is required.")])
    elif len(data.name) > 200:
        add("name", [_("Use at most 200 characters.")])
    if not data.sku:
        add("sku", [_("This field is required.")])
    elif len(data.sku) > 64:
        add("sku", [_("Use at most 64 characters.")])
    if len(data.new_folder) > 120:
        add("new_folder", [_("Use at most 120 characters.")])
    if data.pricing_model not in PricingModel.values:
        add("pricing_model", [_("“%(value)s” is not a pricing model.") % {"value": data.pricing_model}])
    if data.billing_frequency not in Frequency.values:
        add("billing_frequency", [_("“%(value)s” is not a billing frequency.") % {"value": data.billing_frequency}])
    else:
        add("term", term_errors(data.billing_frequency, data.term_months, data.term_weeks))
    if data.unit_cost is not None:
        add("unit_cost", amount_errors(data.unit_cost))
        add("cost_currency", currency_errors(data.cost_currency))

    seen: dict[str, int] = {}
    for i, price in enumerate(data.prices):
        add(f"prices.{i}.currency", currency_errors(price.currency))
        if price.currency in seen:
            add(f"prices.{i}.currency", [_("%(currency)s is in the price list twice.") % {"currency": price.currency}])
        seen.setdefault(price.currency, i)
        add(f"prices.{i}.unit_price", amount_errors(price.unit_price))

    sum_bundle = data.is_bundle and data.bundle_pricing == Product.BundlePricing.SUM
    if sum_bundle and data.prices:
        add("prices", [_("A bundle priced as the sum of its components takes its prices from them; remove these.")])
    elif not sum_bundle and not data.prices:
        add("prices", [_("Add a price in at least one currency.")])

    if data.pricing_model == PricingModel.PACKAGE:
        if data.package_size is None:
            add("package_size", [_("Enter how many units one package holds.")])
        else:
            add("package_size", amount_errors(data.package_size, positive=True))
    elif data.package_size is not None:
        add("package_size", [_("Only package pricing uses a package size.")])

    if data.pricing_model in TIERED:
        _tiers_errors(data, errors)
    elif data.tiers:
        add("tiers", [_("Only volume and graduated pricing use tiers.")])

    if data.is_bundle:
        if data.bundle_pricing not in Product.BundlePricing.values:
            add("bundle_pricing", [_("Choose how the bundle is priced.")])
        if data.pricing_model != PricingModel.FLAT:
            add("pricing_model", [_("A bundle has a flat price; its components keep their own pricing.")])
        if not data.components:
            add("components", [_("Add at least one product to the bundle.")])
        components_seen: set[int] = set()
        for i, component in enumerate(data.components):
            add(f"components.{i}.quantity", amount_errors(component.quantity, positive=True))
            if component.component_id in components_seen:
                add(f"components.{i}.component", [_("This product is in the bundle twice.")])
            components_seen.add(component.component_id)
    else:
        if data.components:
            add("components", [_("Only bundles have components.")])
        if data.bundle_pricing:
            add("bundle_pricing", [_("Only bundles have a bundle pricing.")])
    return errors


# --- checks against the database ------------------------------------------------------------------------------------


def sku_taken(sku: str, *, exclude_pk: int | None = None) -> bool:
    qs = Product.objects.filter(sku__iexact=sku)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def _sku_message(sku: str) -> str:
    return _("Another product already uses the SKU “%(sku)s”. SKUs are unique, whatever their case.") % {"sku": sku}


def bundle_contains(*, bundle_ids: list[int], target_id: int) -> int | None:
    """The first of `bundle_ids` that is, or contains at any depth, `target_id`; None when none does."""
    edges: dict[int, list[int]] = defaultdict(list)
    for parent, child in BundleComponent.objects.values_list("bundle_id", "component_id"):
        edges[parent].append(child)
    for start in bundle_ids:
        stack, seen = [start], set()
        while stack:
            node = stack.pop()
            if node == target_id:
                return start
            if node not in seen:
                seen.add(node)
                stack.extend(edges.get(node, []))
    return None


def product_references_errors(data: ProductInput, *, product: Product | None = None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if data.sku and sku_taken(data.sku, exclude_pk=product.pk if product else None):
        errors["sku"] = [_sku_message(data.sku)]
    if data.folder_id is not None and not ProductFolder.objects.filter(pk=data.folder_id).exists():
        errors["folder"] = [_("That folder no longer exists.")]
    if data.tax_rate_id is not None:
        rate = TaxRate.objects.filter(pk=data.tax_rate_id).first()
        if rate is None:
            errors["tax_rate"] = [_("That tax rate no longer exists.")]
        elif rate.is_archived and (product is None or product.tax_rate_id != rate.pk):
            errors["tax_rate"] = [_("“%(name)s” is archived; choose an active tax rate.") % {"name": rate.name}]
    if data.is_bundle and data.components:
        ids = [c.component_id for c in data.components]
        found = set(Product.objects.filter(pk__in=ids).values_list("pk", flat=True))
        for i, component in enumerate(data.components):
            if component.component_id not in found:
                errors.setdefault(f"components.{i}.component", []).append(_("That product no longer exists."))
            elif product is not None and component.component_id == product.pk:
                errors.setdefault(f"components.{i}.component", []).append(_("A bundle cannot contain itself."))
        if product is not None and product.pk:
            for i, component in enumerate(data.components):
                candidate = component.component_id
                if (
                    candidate in found
                    and candidate != product.pk
                    and bundle_contains(bundle_ids=[candidate], target_id=product.pk)
                ):
                    errors.setdefault(f"components.{i}.component", []).append(
                        _("That bundle contains this product, so this product cannot contain it.")
                    )
    return errors


def product_input_errors(data: ProductInput, *, product: Product | None = None) -> dict[str, list[str]]:
    errors = product_values_errors(data)
    for key, messages in product_references_errors(data, product=product).items():
        errors.setdefault(key, []).extend(messages)
    return errors


# --- writes ---------------------------------------------------------------------------------------------------------


def _folder_for(data: ProductInput, actor) -> int | None:
    if not data.new_folder:
        return data.folder_id
    existing = ProductFolder.objects.filter(parent__isnull=True, name__iexact=data.new_folder).first()
    if existing is not None:
        return existing.pk
    return product_folder_create(name=data.new_folder, actor=actor).pk


def _apply(product: Product, data: ProductInput, folder_id: int | None) -> None:
    product.name = data.name
    product.sku = data.sku
    product.description = data.description
    product.folder_id = folder_id
    product.unit_cost = data.unit_cost
    product.cost_currency = data.cost_currency
    product.pricing_model = data.pricing_model
    product.package_size = data.package_size
    product.billing_frequency = data.billing_frequency
    product.term_months = data.term_months
    product.term_weeks = data.term_weeks
    product.tax_rate_id = data.tax_rate_id
    product.is_bundle = data.is_bundle
    product.bundle_pricing = data.bundle_pricing if data.is_bundle else ""


def _children(product: Product, data: ProductInput) -> tuple[list, list, list]:
    prices = [ProductPrice(product=product, currency=p.currency, unit_price=p.unit_price) for p in data.prices]
    positions: dict[str, int] = defaultdict(int)
    tiers = []
    for tier in data.tiers:
        tiers.append(
            PriceTier(
                product=product,
                currency=tier.currency,
                up_to=tier.up_to,
                unit_price=tier.unit_price,
                flat_fee=tier.flat_fee,
                position=positions[tier.currency],
            )
        )
        positions[tier.currency] += 1
    components = [
        BundleComponent(bundle=product, component_id=c.component_id, quantity=c.quantity) for c in data.components
    ]
    return prices, tiers, components


def _save_children(product: Product, data: ProductInput) -> None:
    prices, tiers, components = _children(product, data)
    ProductPrice.objects.bulk_create(prices)
    PriceTier.objects.bulk_create(tiers)
    BundleComponent.objects.bulk_create(components)


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value.normalize(), "f")


def _pricing_snapshot(product: Product) -> dict:
    """What a price change audit row records: the price list, the tiers and the cost, as text."""
    return {
        "prices": {
            currency: _decimal_text(price) for currency, price in product.prices.values_list("currency", "unit_price")
        },
        "tiers": [
            [currency, _decimal_text(up_to), _decimal_text(unit_price), _decimal_text(flat_fee)]
            for currency, up_to, unit_price, flat_fee in product.tiers.order_by("currency", "position").values_list(
                "currency", "up_to", "unit_price", "flat_fee"
            )
        ],
        "package_size": _decimal_text(product.package_size),
        "pricing_model": product.pricing_model,
        "unit_cost": _decimal_text(product.unit_cost),
        "cost_currency": product.cost_currency,
    }


_TRACKED = [
    "name",
    "sku",
    "description",
    "folder_id",
    "unit_cost",
    "cost_currency",
    "pricing_model",
    "package_size",
    "billing_frequency",
    "term_months",
    "term_weeks",
    "tax_rate_id",
    "is_bundle",
    "bundle_pricing",
]


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


def _save_with_unique_sku(product: Product, sku: str, **kwargs) -> None:
    try:
        with transaction.atomic():
            product.save(**kwargs)
    except IntegrityError as exc:  # another product took this SKU between the check and the write
        if "billing_product_sku_ci_unique" in str(exc):
            raise ValidationError({"sku": [_sku_message(sku)]}) from exc
        raise


def product_create(*, data: ProductInput, actor) -> Product:
    data.normalized()
    _raise(product_input_errors(data))
    with transaction.atomic():
        product = Product()
        _apply(product, data, _folder_for(data, actor))
        product.is_archived = data.is_archived
        product.created_at = product.updated_at = timezone.now()
        _save_with_unique_sku(product, data.sku)
        _save_children(product, data)
        event_emit(name=events.PRODUCT_CREATED, payload={"id": product.pk})
    return product


def product_update(*, product: Product, data: ProductInput, actor) -> Product:
    data.normalized()
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk)
        _raise(product_input_errors(data, product=locked))
        before = {name: getattr(locked, name) for name in _TRACKED}
        pricing_before = _pricing_snapshot(locked)
        components_before = sorted(
            (c, _decimal_text(q)) for c, q in locked.components.values_list("component_id", "quantity")
        )
        _apply(locked, data, _folder_for(data, actor))
        locked.updated_at = timezone.now()
        _save_with_unique_sku(locked, data.sku)
        locked.prices.all().delete()
        locked.tiers.all().delete()
        locked.components.all().delete()
        _save_children(locked, data)
        changed = [name.removesuffix("_id") for name in _TRACKED if getattr(locked, name) != before[name]]
        pricing_after = _pricing_snapshot(locked)
        if pricing_after != pricing_before:
            changed += [key for key in ("prices", "tiers") if pricing_after[key] != pricing_before[key]]
            audit_record(
                actor=actor, action="product.prices_changed", obj=locked, before=pricing_before, after=pricing_after
            )
        components_after = sorted((c.component_id, _decimal_text(c.quantity)) for c in data.components)
        if components_after != components_before:
            changed.append("components")
        event_emit(name=events.PRODUCT_UPDATED, payload={"id": locked.pk, "fields": sorted(set(changed))})
    return locked


def product_set_archived(*, product: Product, archived: bool, actor) -> Product:
    """Archived products stay on every document that has them; they can no longer be added to new ones."""
    with transaction.atomic():
        updated = Product.objects.filter(pk=product.pk, is_archived=not archived).update(
            is_archived=archived, updated_at=timezone.now()
        )
        product.refresh_from_db()
        if updated:
            audit_record(actor=actor, action="product.archived" if archived else "product.unarchived", obj=product)
            event_emit(name=events.PRODUCT_UPDATED, payload={"id": product.pk, "fields": ["is_archived"]})
    return product


def products_bulk_create(*, inputs: list[ProductInput], actor, source: dict | None = None) -> list[int]:
    """Insert already checked products (a CSV import batch) with a few statements instead of a few per product.

    Raises IntegrityError, writing nothing, when a SKU was taken after the check; the caller decides what then.
    """
    now = timezone.now()
    with transaction.atomic():
        folder_names: dict[str, str] = {}
        for data in inputs:  # the first spelling of a new folder's name wins
            if data.new_folder:
                folder_names.setdefault(data.new_folder.lower(), data.new_folder)
        folders = {
            name.lower(): pk
            for name, pk in ProductFolder.objects.filter(parent__isnull=True)
            .annotate(lower_name=Lower("name"))
            .filter(lower_name__in=list(folder_names))
            .values_list("name", "pk")
        }
        missing = [ProductFolder(name=name) for key, name in folder_names.items() if key not in folders]
        for folder in ProductFolder.objects.bulk_create(missing):
            folders[folder.name.lower()] = folder.pk
        products = []
        for data in inputs:
            product = Product(created_at=now, updated_at=now, is_archived=data.is_archived)
            _apply(product, data, folders[data.new_folder.lower()] if data.new_folder else data.folder_id)
            products.append(product)
        Product.objects.bulk_create(products)
        prices, tiers, components = [], [], []
        for product, data in zip(products, inputs, strict=True):
            p, t, c = _children(product, data)
            prices += p
            tiers += t
            components += c
        ProductPrice.objects.bulk_create(prices)
        PriceTier.objects.bulk_create(tiers)
        BundleComponent.objects.bulk_create(components)
        ids = [p.pk for p in products]
        if ids:
            event_emit(name=events.PRODUCT_BULK_CREATED, payload={"ids": ids, **(source or {})})
    return ids


# --- folders --------------------------------------------------------------------------------------------------------


def _folder_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": [_("This field is required.")]})
    if len(name) > 120:
        raise ValidationError({"name": [_("Use at most 120 characters.")]})
    return name


def _folder_name_free(name: str, parent_id: int | None, exclude_pk: int | None = None) -> None:
    qs = ProductFolder.objects.filter(name__iexact=name, parent_id=parent_id)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationError({"name": [_("There is already a folder called “%(name)s” here.") % {"name": name}]})


def product_folder_create(*, name: str, parent_id: int | None = None, actor) -> ProductFolder:
    name = _folder_name(name)
    with transaction.atomic():
        if parent_id is not None and not ProductFolder.objects.filter(pk=parent_id).exists():
            raise ValidationError({"parent": [_("That folder no longer exists.")]})
        _folder_name_free(name, parent_id)
        return ProductFolder.objects.create(name=name, parent_id=parent_id)


def product_folder_rename(*, folder: ProductFolder, name: str, actor) -> ProductFolder:
    name = _folder_name(name)
    with transaction.atomic():
        _folder_name_free(name, folder.parent_id, exclude_pk=folder.pk)
        folder.name = name
        folder.save(update_fields=["name"])
    return folder


def product_folder_delete(*, folder: ProductFolder, actor) -> None:
    """Products in the folder (or its subfolders) stay in the library, without a folder."""
    with transaction.atomic():
        audit_record(actor=actor, action="product_folder.deleted", obj=folder)
        folder.delete()
