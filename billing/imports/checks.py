"""Checking product CSV rows: every mapped cell is read (numbers in the importer's notation, names of tax rates,
folders and components looked up once per distinct value), then the product goes through the same rules as the
product form (billing.services.products.product_values_errors), and its SKU is checked against the other rows and
the library. Each error names the column and the cell it came from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext as _

from billing.imports.fields import OPEN_END, import_specs, text_cell
from billing.models import Product, TaxRate
from billing.models.choices import Frequency, PricingModel
from billing.selectors.products import folder_paths
from billing.services.products import ComponentInput, PriceInput, ProductInput, TierInput, product_values_errors
from commerce_hub.numbers import parse_decimal_localized

_OPEN_ENDS = {"", OPEN_END, "∞", "+"}


@dataclass
class RowResult:
    row_number: int
    data: ProductInput | None = None  # set only when the row has no error
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (CSV column, cell, message)
    sku: str = ""
    sku_cell: tuple[str, str] = ("", "")  # (CSV column, cell) of the SKU, for duplicate errors


def _choice_map(choices) -> dict[str, str]:
    """Values and labels (English and the importer's language), lowercased, to the value."""
    found = {}
    for value, label in choices:
        found[str(value).lower()] = value
        found[str(label).lower()] = value
        with translation.override("en"):
            found[str(label).lower()] = value
    return found


class ProductRowChecker:
    def __init__(self, *, headers: list[str], mapping: dict[str, str], default_currency: str):
        keys = {s.key for s in import_specs()}
        self.columns = [(i, h, mapping[h]) for i, h in enumerate(headers) if h and mapping.get(h) in keys]
        self.default_currency = default_currency
        self.frequencies = _choice_map(Frequency.choices)
        self.pricing_models = _choice_map(PricingModel.choices)
        self.bundle_pricings = _choice_map(Product.BundlePricing.choices)
        self.statuses = _choice_map([("active", _("Active")), ("archived", _("Archived"))])
        self.tax_rates: dict[str, list[int]] = {}
        for pk, name in TaxRate.objects.filter(is_archived=False).values_list("pk", "name"):
            self.tax_rates.setdefault(name.strip().lower(), []).append(pk)
        self.folder_paths: dict[str, int] = {}
        self.folder_names: dict[str, list[int]] = {}
        for pk, path in folder_paths():
            self.folder_paths[path.lower()] = pk
            self.folder_names.setdefault(path.rsplit(" / ", 1)[-1].lower(), []).append(pk)
        self._skus: dict[str, int | None] = {}  # component SKU (lowercase) -> product id
        self._seen: dict[str, int] = {}  # SKU (lowercase) -> first row that has it

    # --- cells ----------------------------------------------------------------------------------------------------

    def _decimal(self, raw: str) -> Decimal | None:
        text = raw.strip()
        return parse_decimal_localized(text) if text else None

    def _whole(self, raw: str) -> int | None:
        text = raw.strip()
        if not text:
            return None
        if not re.fullmatch(r"\d{1,6}", text):
            raise ValidationError(_("“%(value)s” is not a whole number.") % {"value": raw})
        return int(text)

    def _choice(self, raw: str, options: dict[str, str], message: str, default: str) -> str:
        text = raw.strip()
        if not text:
            return default
        value = options.get(text.lower())
        if value is None:
            raise ValidationError(message % {"value": text})
        return value

    def _tax_rate(self, raw: str) -> int | None:
        name = raw.strip()
        if not name:
            return None
        ids = self.tax_rates.get(name.lower(), [])
        if not ids:
            raise ValidationError(_("No active tax rate is called “%(value)s”.") % {"value": name})
        if len(ids) > 1:
            raise ValidationError(_("More than one active tax rate is called “%(value)s”.") % {"value": name})
        return ids[0]

    def _folder(self, raw: str) -> tuple[int | None, str]:
        """(folder id, "") for a folder that exists (by path, or by a name only one folder has), else (None, name):
        the import creates that folder."""
        text = text_cell(raw)
        if not text:
            return None, ""
        if text.lower() in self.folder_paths:
            return self.folder_paths[text.lower()], ""
        named = self.folder_names.get(text.lower(), [])
        if len(named) == 1:
            return named[0], ""
        if len(named) > 1:
            raise ValidationError(
                _("More than one folder is called “%(value)s”; write its path, like “Parent / %(value)s”.")
                % {"value": text}
            )
        return None, text

    def _tiers(self, raw: str, currency: str) -> list[TierInput]:
        text = raw.strip()
        if not text:
            return []
        tiers = []
        for part in text.split("|"):
            pieces = [p.strip() for p in part.split(":")]
            if len(pieces) not in (2, 3) or not pieces[1]:
                raise ValidationError(
                    _("“%(value)s” is not a list of tiers; write up_to:unit_price, like 10:5.00 | *:4.00.")
                    % {"value": part.strip()}
                )
            up_to = None if pieces[0] in _OPEN_ENDS else parse_decimal_localized(pieces[0])
            flat_fee = parse_decimal_localized(pieces[2]) if len(pieces) == 3 and pieces[2] else Decimal(0)
            tiers.append(
                TierInput(
                    currency=currency, up_to=up_to, unit_price=parse_decimal_localized(pieces[1]), flat_fee=flat_fee
                )
            )
        return tiers

    def _components(self, raw: str) -> list[ComponentInput]:
        text = raw.strip()
        if not text:
            return []
        wanted = []
        for part in text.split("|"):
            part = part.strip()
            sku, sep, quantity = part.rpartition(":")
            if not sep:
                sku, quantity = part, "1"
            wanted.append((sku.strip(), parse_decimal_localized(quantity) if quantity.strip() else Decimal(1)))
        missing = [sku.lower() for sku, _q in wanted if sku.lower() not in self._skus]
        if missing:
            found = dict(
                Product.objects.annotate(sku_lower=Lower("sku"))
                .filter(sku_lower__in=missing)
                .values_list("sku_lower", "pk")
            )
            for sku in missing:
                self._skus[sku] = found.get(sku)
        unknown = [sku for sku, _q in wanted if self._skus[sku.lower()] is None]
        if unknown:
            raise ValidationError(
                _("No product has the SKU “%(value)s”; a bundle can only hold products already in the library.")
                % {"value": unknown[0]}
            )
        return [ComponentInput(component_id=self._skus[sku.lower()], quantity=q) for sku, q in wanted]

    # --- rows -----------------------------------------------------------------------------------------------------

    def check_row(self, row_number: int, cells: list[str]) -> RowResult:
        result = RowResult(row_number=row_number)
        cell: dict[str, tuple[str, str]] = {}
        for index, header, key in self.columns:
            cell[key] = (header, cells[index] if index < len(cells) else "")
        failed: set[str] = set()

        def raw(key: str) -> str:
            return cell.get(key, ("", ""))[1]

        def error(key: str, message: str) -> None:
            header, value = cell.get(key, ("", ""))
            result.errors.append((header, value, message))

        def read(key: str, parse, *args):
            try:
                return parse(raw(key), *args)
            except ValidationError as exc:
                failed.add(key)
                for message in exc.messages:
                    error(key, message)
                return None

        folder_id, new_folder = read("folder", self._folder) or (None, "")
        frequency = read(
            "billing_frequency",
            self._choice,
            self.frequencies,
            _("“%(value)s” is not a billing frequency. Use one of: ") + ", ".join(Frequency.values) + ".",
            Frequency.ONE_TIME,
        )
        pricing_model = read(
            "pricing_model",
            self._choice,
            self.pricing_models,
            _("“%(value)s” is not a pricing model. Use one of: ") + ", ".join(PricingModel.values) + ".",
            PricingModel.FLAT,
        )
        status = read("status", self._choice, self.statuses, _("Use active or archived, not “%(value)s”."), "active")
        bundle_pricing = read(
            "bundle_pricing",
            self._choice,
            self.bundle_pricings,
            _("“%(value)s” is not a bundle price. Use one of: ") + ", ".join(Product.BundlePricing.values) + ".",
            "",
        )
        components = read("components", self._components) or []

        # Each price remembers the cells it came from, to report a bad currency or amount on its own column.
        prices: list[tuple[PriceInput, str, str]] = []
        pair_price = read("unit_price", self._decimal)
        pair_currency = text_cell(raw("currency")).upper()
        if pair_price is not None:
            prices.append(
                (
                    PriceInput(currency=pair_currency or self.default_currency, unit_price=pair_price),
                    "currency",
                    "unit_price",
                )
            )
        elif pair_currency and "unit_price" not in failed:
            error("unit_price", _("This row has a currency but no unit price."))
        tiers: list[tuple[TierInput, str]] = []
        for _index, _header, key in self.columns:
            if key.startswith("price_"):
                amount = read(key, self._decimal)
                if amount is not None:
                    prices.append((PriceInput(currency=key.removeprefix("price_"), unit_price=amount), key, key))
            elif key.startswith("tiers_"):
                tiers += [(t, key) for t in read(key, self._tiers, key.removeprefix("tiers_")) or []]

        unit_cost = read("unit_cost", self._decimal)
        cost_currency = text_cell(raw("cost_currency")).upper()
        if unit_cost is not None and not cost_currency:
            cost_currency = prices[0][0].currency if prices else self.default_currency
        data = ProductInput(
            name=text_cell(raw("name")),
            sku=text_cell(raw("sku")),
            description=text_cell(raw("description")),
            folder_id=folder_id,
            new_folder=new_folder,
            unit_cost=unit_cost,
            cost_currency=cost_currency,
            pricing_model=pricing_model or PricingModel.FLAT,
            package_size=read("package_size", self._decimal),
            billing_frequency=frequency or Frequency.ONE_TIME,
            term_months=read("term_months", self._whole),
            term_weeks=read("term_weeks", self._whole),
            tax_rate_id=read("tax_rate", self._tax_rate),
            is_bundle=bool(components or bundle_pricing),
            bundle_pricing=bundle_pricing or "",
            is_archived=status == "archived",
            prices=[p for p, _c, _a in prices],
            tiers=[t for t, _k in tiers],
            components=components,
        ).normalized()
        price_keys = {"unit_price", "currency"} | {k for _i, _h, k in self.columns if k.startswith("price_")}
        tier_keys = {k for _i, _h, k in self.columns if k.startswith("tiers_")}

        def locate(key: str) -> str | None:
            """The column an error of the product rules belongs to; None to drop it (its cell already failed)."""
            kind, _sep, rest = key.partition(".")
            if kind == "prices":
                if not rest:
                    return None if failed & price_keys else next(iter(sorted(price_keys & set(cell))), "")
                index, _sep, name = rest.partition(".")
                _price, currency_key, amount_key = prices[int(index)]
                return currency_key if name == "currency" else amount_key
            if kind == "tiers":
                if not rest:
                    return None if failed & tier_keys else next(iter(sorted(tier_keys & set(cell))), "")
                return tiers[int(rest.partition(".")[0])][1]
            if kind == "components":
                return "components"
            if key == "term":
                return "term_weeks" if raw("term_weeks").strip() else "term_months"
            if key == "new_folder":
                return "folder"
            return key

        for key, messages in product_values_errors(data).items():
            column = locate(key)
            if column is None or column in failed:
                continue
            for message in messages:
                error(column, message)
        result.data = None if result.errors else data
        result.sku, result.sku_cell = data.sku, cell.get("sku", ("", ""))
        return result

    def check_batch(self, rows: list[tuple[int, list[str]]]) -> list[RowResult]:
        """Check rows, then their SKUs: against the rows before them in the file, and against the library."""
        results = [self.check_row(row_number, cells) for row_number, cells in rows]
        fresh: dict[str, RowResult] = {}
        for result in results:
            sku = result.sku.lower()
            if not sku:
                continue
            first = self._seen.get(sku)
            if first is not None:
                self._sku_error(result, _("This SKU is also in row %(row)s.") % {"row": first})
                continue
            self._seen[sku] = result.row_number
            fresh[sku] = result
        if fresh:
            stored = (
                Product.objects.annotate(sku_lower=Lower("sku"))
                .filter(sku_lower__in=list(fresh))
                .values_list("sku_lower", flat=True)
            )
            for sku in stored:
                self._sku_error(fresh[sku], _("A product with this SKU already exists."))
        return results

    @staticmethod
    def _sku_error(result: RowResult, message: str) -> None:
        header, value = result.sku_cell
        result.errors.append((header, value, message))
        result.data = None
