"""The product form: the product's own fields, and three row editors (price list, tiers, bundle components).

The forms turn the user's text into values (numbers in the user's notation, SKUs into products); every rule a
product must follow is checked by billing.services.products, whose errors come back next to the field or row they
are about (ProductEditor.apply_errors).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.forms import formset_factory
from django.forms.utils import ErrorDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.forms.fields import LocalizedDecimalField
from billing.models import Product
from billing.models.choices import Frequency, PricingModel
from billing.selectors.products import folder_paths
from billing.selectors.tax_rates import tax_rate_choices
from billing.services.products import PERIOD_WEEKS, TIERED, ComponentInput, PriceInput, ProductInput, TierInput
from commerce_hub.organization.models import CURRENCY_CHOICES

_L = gettext_lazy
ROW_KINDS = ("prices", "tiers", "components")
COMPONENT_DATALIST_ID = "product-options"


class ProductForm(forms.Form):
    name = forms.CharField(label=_L("Name"), max_length=200)
    sku = forms.CharField(
        label=_L("SKU"), max_length=64, help_text=_L("Unique in your library; “ab-1” and “AB-1” are the same SKU.")
    )
    description = forms.CharField(label=_L("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    folder = forms.ChoiceField(label=_L("Folder"), required=False)
    new_folder = forms.CharField(
        label=_L("Or a new folder"), required=False, max_length=120, help_text=_L("Created when you save.")
    )
    pricing_model = forms.ChoiceField(label=_L("Pricing model"), choices=PricingModel.choices)
    package_size = LocalizedDecimalField(
        label=_L("Units per package"),
        required=False,
        help_text=_L("The price list price buys one package; a started package is charged in full."),
    )
    billing_frequency = forms.ChoiceField(label=_L("Billing frequency"), choices=Frequency.choices)
    term = forms.IntegerField(
        label=_L("Term"),
        required=False,
        help_text=_L("In weeks for weekly and two-weekly billing, in months otherwise. Empty: no fixed term."),
    )
    tax_rate = forms.ChoiceField(label=_L("Tax rate"), required=False)
    unit_cost = LocalizedDecimalField(label=_L("Unit cost"), required=False, min_decimals=2)
    cost_currency = forms.ChoiceField(label=_L("Cost currency"), choices=CURRENCY_CHOICES)
    is_bundle = forms.BooleanField(label=_L("This product is a bundle of other products"), required=False)
    bundle_pricing = forms.ChoiceField(
        label=_L("Bundle price"), required=False, choices=[("", "—"), *Product.BundlePricing.choices]
    )

    def __init__(self, *args, product: Product | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["folder"].choices = [("", _("No folder"))] + [(str(pk), path) for pk, path in folder_paths()]
        keep = product.tax_rate if product is not None and product.tax_rate_id else None
        self.fields["tax_rate"].choices = [("", _("No tax rate"))] + tax_rate_choices(keep=keep)


class _RowForm(forms.Form):
    """One row of a row editor; `row` (1-based) names its inputs for screen readers ("Price, row 2")."""

    labels: dict[str, str] = {}

    def __init__(self, *args, row: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in self.labels.items():
            self.fields[name].widget.attrs["aria-label"] = _("%(field)s, row %(row)s") % {"field": label, "row": row}
        if "DELETE" in self.fields:
            self.fields["DELETE"].label = _("Remove")
            self.fields["DELETE"].widget.attrs["aria-label"] = _("Remove row %(row)s") % {"row": row}

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", None) or {}
        return all(data.get(name) in (None, "") for name in self.value_fields)

    value_fields: tuple[str, ...] = ()


class PriceRowForm(_RowForm):
    currency = forms.CharField(required=False, widget=forms.Select(choices=[("", "—"), *CURRENCY_CHOICES]))
    unit_price = LocalizedDecimalField(required=False, min_decimals=2)
    value_fields = ("currency", "unit_price")

    @property
    def labels(self):
        return {"currency": _("Currency"), "unit_price": _("Unit price")}

    def clean(self):
        data = super().clean()
        if self.is_blank() or data.get("DELETE"):
            return data
        if not data.get("currency") and "currency" not in self.errors:
            self.add_error("currency", _("Choose a currency."))
        if data.get("unit_price") is None and "unit_price" not in self.errors:
            self.add_error("unit_price", _("Enter a price, or remove this row."))
        return data


class TierRowForm(_RowForm):
    currency = forms.CharField(required=False, widget=forms.Select(choices=[("", "—"), *CURRENCY_CHOICES]))
    up_to = LocalizedDecimalField(required=False)
    unit_price = LocalizedDecimalField(required=False, min_decimals=2)
    flat_fee = LocalizedDecimalField(required=False, min_decimals=2)
    value_fields = ("up_to", "unit_price", "flat_fee")

    @property
    def labels(self):
        return {
            "currency": _("Tier currency"),
            "up_to": _("Up to"),
            "unit_price": _("Tier unit price"),
            "flat_fee": _("Tier flat fee"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["up_to"].widget.attrs["placeholder"] = _("and above")

    def clean(self):
        data = super().clean()
        if self.is_blank() or data.get("DELETE"):
            return data
        if not data.get("currency") and "currency" not in self.errors:
            self.add_error("currency", _("Choose a currency."))
        if data.get("unit_price") is None and "unit_price" not in self.errors:
            self.add_error("unit_price", _("Enter a unit price, or remove this tier."))
        return data


class ComponentRowForm(_RowForm):
    component = forms.CharField(required=False, max_length=64)
    quantity = LocalizedDecimalField(required=False)
    value_fields = ("component",)

    @property
    def labels(self):
        return {"component": _("Component SKU"), "quantity": _("Component quantity")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["component"].widget.attrs.update({"list": COMPONENT_DATALIST_ID, "placeholder": _("SKU")})
        self.fields["quantity"].widget.attrs["placeholder"] = "1"


class _RowFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "row": (index or 0) + 1}

    def rows(self) -> list[tuple[int, forms.Form]]:
        """(index, form) of the rows that hold a value and are not removed."""
        return [
            (i, f)
            for i, f in enumerate(self.forms)
            if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE") and not f.is_blank()
        ]


def _formset(form_class, *, extra: int):
    return formset_factory(form_class, formset=_RowFormSet, extra=extra, can_delete=True)


FORM_CLASSES = {"prices": PriceRowForm, "tiers": TierRowForm, "components": ComponentRowForm}


def _initial_rows(product: Product | None, default_currency: str) -> dict[str, list[dict]]:
    if product is None:
        return {"prices": [{"currency": default_currency}], "tiers": [], "components": []}
    return {
        "prices": [{"currency": p.currency, "unit_price": p.unit_price} for p in product.prices.all()],
        "tiers": [
            {"currency": t.currency, "up_to": t.up_to, "unit_price": t.unit_price, "flat_fee": t.flat_fee}
            for t in product.tiers.all()
        ],
        "components": [{"component": c.component.sku, "quantity": c.quantity} for c in product.components.all()],
    }


def _initial_product(product: Product | None, default_currency: str) -> dict:
    if product is None:
        return {"cost_currency": default_currency}
    return {
        "name": product.name,
        "sku": product.sku,
        "description": product.description,
        "folder": str(product.folder_id or ""),
        "pricing_model": product.pricing_model,
        "package_size": product.package_size,
        "billing_frequency": product.billing_frequency,
        "term": product.term_weeks if product.billing_frequency in PERIOD_WEEKS else product.term_months,
        "tax_rate": str(product.tax_rate_id or ""),
        "unit_cost": product.unit_cost,
        "cost_currency": product.cost_currency or default_currency,
        "is_bundle": product.is_bundle,
        "bundle_pricing": product.bundle_pricing,
    }


class ProductEditor:
    """The product form and its row editors, bound or not, as one unit."""

    def __init__(self, data=None, *, product: Product | None = None, default_currency: str = "EUR"):
        self.product = product
        self.form = ProductForm(
            data, initial=None if data is not None else _initial_product(product, default_currency), product=product
        )
        initial = _initial_rows(product, default_currency)
        self.formsets = {}
        for kind in ROW_KINDS:
            if data is not None:
                self.formsets[kind] = _formset(FORM_CLASSES[kind], extra=0)(data, prefix=kind)
            else:
                rows = initial[kind]
                self.formsets[kind] = _formset(FORM_CLASSES[kind], extra=0 if rows and kind == "prices" else 1)(
                    initial=rows, prefix=kind
                )
        self._components: dict[str, int] = {}

    @classmethod
    def with_row_added(cls, data, *, kind: str, product: Product | None = None) -> ProductEditor:
        """The submitted form with one more empty row of `kind`; nothing is checked or saved yet."""
        data = data.copy()
        key = f"{kind}-TOTAL_FORMS"
        try:
            data[key] = str(int(data.get(key, "0")) + 1)
        except ValueError:
            data[key] = "1"
        editor = cls(data, product=product)
        editor.quiet()
        return editor

    @property
    def prices(self):
        return self.formsets["prices"]

    @property
    def tiers(self):
        return self.formsets["tiers"]

    @property
    def components(self):
        return self.formsets["components"]

    def quiet(self) -> None:
        """Show the bound values without any error: the user asked for another row, not to save."""
        self.form._errors = ErrorDict()
        for formset in self.formsets.values():
            formset._errors = []
            formset._non_form_errors = formset.error_class()
            for form in formset.forms:
                form._errors = ErrorDict()

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        for formset in self.formsets.values():
            valid = formset.is_valid() and valid
        if self.components.is_valid():
            valid = self._resolve_components() and valid
        return valid

    def _resolve_components(self) -> bool:
        rows = self.components.rows()
        wanted = {f.cleaned_data["component"].strip().lower() for _i, f in rows}
        found = dict(
            Product.objects.annotate(sku_lower=Lower("sku")).filter(sku_lower__in=wanted).values_list("sku_lower", "pk")
        )
        ok = True
        for _i, form in rows:
            sku = form.cleaned_data["component"].strip()
            if sku.lower() not in found:
                form.add_error("component", _("No product has the SKU “%(sku)s”.") % {"sku": sku})
                ok = False
            else:
                self._components[sku.lower()] = found[sku.lower()]
        return ok

    def product_input(self) -> ProductInput:
        """The data for the product services; call after is_valid(). Rows keep their order; blank and removed rows
        are left out, and `self.row_index` maps each input row back to its form row for errors."""
        cd = self.form.cleaned_data
        frequency = cd["billing_frequency"]
        weekly = frequency in PERIOD_WEEKS
        pricing_model = cd["pricing_model"]
        is_bundle = bool(cd["is_bundle"])
        price_rows = self.prices.rows()
        # Rows of a section the chosen options hide are not part of the product.
        tier_rows = self.tiers.rows() if pricing_model in TIERED else []
        component_rows = self.components.rows() if is_bundle else []
        self.row_index = {
            "prices": [i for i, _f in price_rows],
            "tiers": [i for i, _f in tier_rows],
            "components": [i for i, _f in component_rows],
        }
        return ProductInput(
            name=cd["name"],
            sku=cd["sku"],
            description=cd["description"],
            folder_id=int(cd["folder"]) if cd["folder"] else None,
            new_folder=cd["new_folder"],
            unit_cost=cd["unit_cost"],
            cost_currency=cd["cost_currency"] if cd["unit_cost"] is not None else "",
            pricing_model=pricing_model,
            package_size=cd["package_size"] if pricing_model == PricingModel.PACKAGE else None,
            billing_frequency=frequency,
            term_months=None if weekly else cd["term"],
            term_weeks=cd["term"] if weekly else None,
            tax_rate_id=int(cd["tax_rate"]) if cd["tax_rate"] else None,
            is_bundle=is_bundle,
            bundle_pricing=cd["bundle_pricing"] if is_bundle else "",
            prices=[
                PriceInput(currency=f.cleaned_data["currency"], unit_price=f.cleaned_data["unit_price"])
                for _i, f in price_rows
            ],
            tiers=[
                TierInput(
                    currency=f.cleaned_data["currency"],
                    up_to=f.cleaned_data["up_to"],
                    unit_price=f.cleaned_data["unit_price"],
                    flat_fee=f.cleaned_data["flat_fee"] if f.cleaned_data["flat_fee"] is not None else Decimal(0),
                )
                for _i, f in tier_rows
            ],
            components=[
                ComponentInput(
                    component_id=self._components[f.cleaned_data["component"].strip().lower()],
                    quantity=f.cleaned_data["quantity"] if f.cleaned_data["quantity"] is not None else Decimal(1),
                )
                for _i, f in component_rows
            ],
        )

    def apply_errors(self, exc: ValidationError) -> None:
        """Put a service's errors next to their fields: "term" on the form, "prices" above the price list,
        "prices.2.unit_price" on the row it came from."""
        by_key = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        for key, messages in by_key.items():
            kind, _sep, rest = key.partition(".")
            if kind in self.formsets:
                formset = self.formsets[kind]
                if not rest:
                    formset.non_form_errors().extend(messages)
                    continue
                index, _sep, name = rest.partition(".")
                form_index = self.row_index[kind][int(index)]
                formset.forms[form_index].add_error(name, messages)
            elif key in self.form.fields:
                self.form.add_error(key, messages)
            else:
                self.form.add_error(None, messages)

    def __iter__(self):
        yield self.form
        yield from self.formsets.values()


class FolderForm(forms.Form):
    name = forms.CharField(label=_L("Folder name"), max_length=120)
    parent = forms.ChoiceField(label=_L("Inside"), required=False)

    def __init__(self, *args, exclude: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("Top level"))] + [
            (str(pk), path) for pk, path in folder_paths() if pk != exclude
        ]
