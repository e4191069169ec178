"""Writes of the line item editor: lines and one-time adjustments on a document (a deal now), and the deal amount
from its lines.

Each service is one transaction that first locks the owning document's row, so two people editing the same
document's lines (positions, clone, reorder) take turns instead of interleaving. Every value is checked by the
pricing engine's validators before anything is written: a form with an error saves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Max, PositiveIntegerField, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from billing import events, pricing
from billing.editor import LineOwner, adjustment_input, deal_amount_from_lines, line_input
from billing.models import DocumentAdjustment, LineItem, Product, TaxRate
from billing.models.choices import AdjustmentKind, BillingStart, Frequency
from billing.selectors.exchange_rates import exchange_rate_on
from commerce_hub.events.services import event_emit
from commerce_hub.money import money, money_bound_text, money_check, money_in_bounds

MAX_DELAY = 3650  # days or months a billing start may be delayed; anything longer is a typo
UNIT_DECIMALS = Decimal("0.000001")


@dataclass
class LineValues:
    """What the editor's line form sets, already parsed from the user's text."""

    quantity: Decimal | None
    unit_price: Decimal | None
    discount_type: str = ""
    discount_value: Decimal | None = None
    tax_rate_id: int | None = None
    frequency: str = Frequency.ONE_TIME
    term: int | None = None  # in weeks for the weekly frequencies, in months for the others
    billing_start: str = BillingStart.CHECKOUT
    billing_start_date: date | None = None
    billing_start_delay: int | None = None
    unit_cost: Decimal | None = None


@dataclass
class CustomLineValues(LineValues):
    name: str = ""
    description: str = ""
    sku: str = ""


# --- checks -----------------------------------------------------------------------------------------------------------

# The engine names its fields after LineInput; the form has one "term" box whatever the frequency's unit.
_ENGINE_FIELDS = {
    "term_months": "term",
    "term_weeks": "term",
    "tiers": "unit_price",
    "package_size": "quantity",
    "total": "quantity",
}


def _add(errors: dict[str, list[str]], key: str, message: str) -> None:
    messages = errors.setdefault(key, [])
    if message not in messages:
        messages.append(message)


def _number_errors(values: LineValues, errors: dict[str, list[str]]) -> None:
    """What the engine leaves to the columns: sizes that fit DECIMAL(18, 6), and a quantity's decimals."""
    for key in ("quantity", "unit_price", "discount_value", "unit_cost"):
        value = getattr(values, key)
        if value is not None and value.is_finite() and not money_in_bounds(value):
            _add(errors, key, _("Enter a number below %(bound)s.") % {"bound": money_bound_text()})
    quantity = values.quantity
    if quantity is None:
        _add(errors, "quantity", _("This field is required."))
    elif quantity.is_finite() and quantity.normalize().as_tuple().exponent < -6:
        _add(errors, "quantity", _("Use at most %(count)d decimals.") % {"count": 6})
    if values.unit_price is None:
        _add(errors, "unit_price", _("This field is required."))


def _start_errors(values: LineValues, errors: dict[str, list[str]]) -> None:
    if values.billing_start not in BillingStart.values:
        _add(errors, "billing_start", _("Choose when billing starts."))
    elif values.billing_start == BillingStart.DATE and values.billing_start_date is None:
        _add(errors, "billing_start_date", _("Enter the date billing starts."))
    elif values.billing_start in (BillingStart.DELAY_DAYS, BillingStart.DELAY_MONTHS):
        delay = values.billing_start_delay
        if delay is None:
            _add(errors, "billing_start_delay", _("Enter the delay."))
        elif not 0 <= delay <= MAX_DELAY:
            _add(errors, "billing_start_delay", _("Enter a delay between 0 and %(max)d.") % {"max": MAX_DELAY})


def _tax_rate(values: LineValues, line: LineItem, errors: dict[str, list[str]]) -> TaxRate | None:
    if values.tax_rate_id is None:
        return None
    rate = TaxRate.objects.filter(pk=values.tax_rate_id).first()
    if rate is None:
        _add(errors, "tax_rate", _("That tax rate no longer exists."))
    elif rate.is_archived and rate.pk != line.tax_rate_id:
        _add(errors, "tax_rate", _("“%(name)s” is archived; choose an active tax rate.") % {"name": rate.name})
    return rate


def _apply(line: LineItem, values: LineValues, rate: TaxRate | None) -> None:
    line.quantity = values.quantity
    line.unit_price = values.unit_price
    # "No discount" ignores whatever the (hidden) value box still holds.
    line.discount_type = values.discount_type or ""
    line.discount_value = (values.discount_value or Decimal(0)) if values.discount_type else Decimal(0)
    line.tax_rate = rate
    line.frequency = values.frequency
    unit = pricing.frequency_rule(values.frequency).term_unit if values.frequency in Frequency.values else None
    line.term_months = values.term if unit == "months" else None
    line.term_weeks = values.term if unit == "weeks" else None
    line.billing_start = values.billing_start
    line.billing_start_date = values.billing_start_date if values.billing_start == BillingStart.DATE else None
    delayed = values.billing_start in (BillingStart.DELAY_DAYS, BillingStart.DELAY_MONTHS)
    line.billing_start_delay = values.billing_start_delay if delayed else None
    line.unit_cost = values.unit_cost


def line_check(line: LineItem, values: LineValues) -> tuple[LineItem, dict[str, list[str]]]:
    """`line` with `values` applied (not saved), and every error keyed by form field; no errors: it can be saved.

    The preview and the save both go through here, so what the preview accepts is exactly what saves.
    """
    errors: dict[str, list[str]] = {}
    _number_errors(values, errors)
    _start_errors(values, errors)
    if values.frequency not in Frequency.values:
        _add(errors, "frequency", _("Choose a billing frequency."))
    if values.discount_type not in ("", "percent", "amount"):
        _add(errors, "discount_type", _("Choose a percentage or an amount."))
    rate = _tax_rate(values, line, errors)
    if values.term is not None and values.frequency == Frequency.ONE_TIME:
        _add(errors, "term", _("A one-time line has no term."))
    candidate = LineItem(**{f.attname: getattr(line, f.attname) for f in LineItem._meta.concrete_fields})
    candidate._state.adding = line._state.adding
    if errors.keys() & {"quantity", "unit_price", "frequency", "discount_type", "tax_rate"}:
        return candidate, errors
    _apply(candidate, values, rate)
    for field, message in pricing.validate_line(line_input(candidate)):
        _add(errors, _ENGINE_FIELDS.get(field, field), message)
    return candidate, errors


def line_preview(line: LineItem, values: LineValues) -> tuple[pricing.LineResult | None, dict[str, list[str]]]:
    """The engine's figures for the line as the form stands (nothing is saved), or the errors that stop it."""
    candidate, errors = line_check(line, values)
    if errors:
        return None, errors
    return pricing.line_result(line_input(candidate)), errors


# --- the document -----------------------------------------------------------------------------------------------------


def _lock(owner: LineOwner) -> None:
    """Serialize writes to one document's lines; the owner row is the lock. A document whose lines are frozen
    (a finalized invoice) is refused here, under the lock, so a finalization in between is seen."""
    locked = owner.kind.model.objects.select_for_update().filter(pk=owner.pk).first()
    reason = owner.kind.locked_reason(locked) if locked is not None else ""
    if reason:
        raise ValidationError(reason)


def _changed(owner: LineOwner, actor) -> None:
    event_emit(name=events.LINE_ITEMS_CHANGED[owner.kind.kind], payload={"id": owner.pk})
    if owner.kind.on_lines_changed is not None:
        owner.kind.on_lines_changed(owner.obj, actor)


def _next_position(owner: LineOwner) -> int:
    top = owner.lines().aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


def _ordered_ids(owner: LineOwner) -> list[int]:
    return list(owner.lines().order_by("position", "id").values_list("pk", flat=True))


def _renumber(owner: LineOwner, ids: list[int]) -> None:
    """Positions 0..n-1 in the given order, in one UPDATE statement."""
    if not ids:
        return
    owner.lines().filter(pk__in=ids).update(
        position=Case(
            *[When(pk=pk, then=Value(position)) for position, pk in enumerate(ids)],
            output_field=PositiveIntegerField(),
        )
    )


# --- lines from the library -------------------------------------------------------------------------------------------


def _text(value: Decimal) -> str:
    """A Decimal as JSON text without trailing zeros or an exponent (10, not 1E+1)."""
    return f"{value.normalize():f}"


def _no_price(currency: str) -> str:
    return _("This product has no price in %(currency)s") % {"currency": currency}


def _cost_in(product: Product, currency: str) -> Decimal | None:
    """The product's unit cost in the line's currency: as is when it is in that currency (or has none), else
    converted with today's exchange rate, kept to unit-price precision; unknown (None) without a rate."""
    if product.unit_cost is None:
        return None
    if product.cost_currency in ("", currency):
        return product.unit_cost
    quote = exchange_rate_on(product.cost_currency, currency, timezone.localdate())
    if quote is None:
        return None
    return (product.unit_cost * quote.rate).quantize(UNIT_DECIMALS, rounding=ROUND_HALF_UP)


def _line_from_product(product: Product, currency: str, errors: dict[str, list[str]]) -> LineItem | None:
    key = f"product_{product.pk}"
    prices = {p.currency: p.unit_price for p in product.prices.all()}
    tiers = [t for t in product.tiers.all() if t.currency == currency]
    unit_price = prices.get(currency)
    if product.is_archived:
        _add(errors, key, _("This product is archived and can no longer be added."))
        return None
    if product.is_bundle and product.bundle_pricing == Product.BundlePricing.SUM:
        parts = []
        for component in product.components.all():
            price = next((p.unit_price for p in component.component.prices.all() if p.currency == currency), None)
            if price is None:
                _add(errors, key, _no_price(currency))
                return None
            parts.append((component.quantity, price))
        try:
            unit_price = pricing.bundle_unit_price(parts, mode="sum")
        except pricing.PricingError as exc:
            for _field, message in exc.errors:
                _add(errors, key, message)
            return None
    elif product.pricing_model in (pricing.PricingModel.VOLUME, pricing.PricingModel.GRADUATED):
        if not tiers:
            _add(errors, key, _no_price(currency))
            return None
        unit_price = unit_price if unit_price is not None else Decimal(0)
    elif unit_price is None:
        _add(errors, key, _no_price(currency))
        return None
    line = LineItem(
        product=product,
        name=product.name,
        description=product.description,
        sku=product.sku,
        quantity=Decimal(1),
        unit_price=unit_price,
        currency=currency,
        unit_cost=_cost_in(product, currency),
        tax_rate=product.tax_rate,
        pricing_model=product.pricing_model,
        tiers=[
            {
                "up_to": None if t.up_to is None else _text(t.up_to),
                "unit_price": _text(t.unit_price),
                "flat_fee": _text(t.flat_fee),
            }
            for t in sorted(tiers, key=lambda t: (t.position, t.pk))
        ],
        package_size=product.package_size,
        frequency=product.billing_frequency,
        term_months=product.term_months,
        term_weeks=product.term_weeks,
        billing_start=BillingStart.CHECKOUT,
    )
    for _field, message in pricing.validate_line(line_input(line)):
        _add(errors, key, message)
    return line


def line_items_add_products(*, owner: LineOwner, product_ids: list[int], actor) -> list[LineItem]:
    """Copy each product onto the document as a line, in the document's currency, in the order given.

    All or nothing: a product without a price in that currency (or archived, or gone) refuses the whole batch,
    with the message keyed "product_<id>".
    """
    if not product_ids:
        raise ValidationError({"products": [_("Choose at least one product.")]})
    products = {
        p.pk: p
        for p in Product.objects.filter(pk__in=product_ids)
        .select_related("tax_rate")
        .prefetch_related("prices", "tiers", "components__component__prices")
    }
    errors: dict[str, list[str]] = {}
    lines = []
    for pk in dict.fromkeys(product_ids):
        product = products.get(pk)
        if product is None:
            _add(errors, "products", _("A chosen product no longer exists."))
            continue
        line = _line_from_product(product, owner.currency, errors)
        if line is not None:
            lines.append(line)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _lock(owner)
        start = _next_position(owner)
        for offset, line in enumerate(lines):
            setattr(line, owner.kind.column, owner.obj)
            line.position = start + offset
        LineItem.objects.bulk_create(lines)
        _changed(owner, actor)
    return lines


# --- custom lines -----------------------------------------------------------------------------------------------------


def _library_errors(exc: ValidationError) -> dict[str, list[str]]:
    """A product service's errors, keyed by the custom line form's fields."""
    renamed = {"prices.0.unit_price": "unit_price", "prices": "unit_price", "billing_frequency": "frequency"}
    errors: dict[str, list[str]] = {}
    for key, messages in exc.message_dict.items():
        for message in messages:
            _add(errors, renamed.get(key, key), message)
    return errors


def line_item_create_custom(*, owner: LineOwner, values: CustomLineValues, save_to_library: bool, actor) -> LineItem:
    """A line typed in by hand. Needs "create custom line items"; saving it to the library as a product also
    needs "manage products" (the product gets this line's price in the document's currency)."""
    if not actor.has_perm("accounts.create_custom_line_items"):
        raise PermissionDenied
    if save_to_library and not actor.has_perm("accounts.manage_products"):
        raise PermissionDenied
    name = (values.name or "").strip()
    line = LineItem(currency=owner.currency, name=name[:200], description=values.description.strip())
    line.sku = (values.sku or "").strip()[:64]
    line, errors = line_check(line, values)
    if not name:
        _add(errors, "name", _("This field is required."))
    if save_to_library and not line.sku:
        _add(errors, "sku", _("A product in the library needs a SKU."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        _lock(owner)
        if save_to_library:
            line.product = _library_product(line, actor)
        setattr(line, owner.kind.column, owner.obj)
        line.position = _next_position(owner)
        line.save()
        _changed(owner, actor)
    return line


def _library_product(line: LineItem, actor) -> Product:
    from billing.services.products import PriceInput, ProductInput, product_create

    data = ProductInput(
        name=line.name,
        sku=line.sku,
        description=line.description,
        unit_cost=line.unit_cost,
        cost_currency=line.currency if line.unit_cost is not None else "",
        billing_frequency=line.frequency,
        term_months=line.term_months,
        term_weeks=line.term_weeks,
        tax_rate_id=line.tax_rate_id,
        prices=[PriceInput(currency=line.currency, unit_price=line.unit_price)],
    )
    try:
        return product_create(data=data, actor=actor)
    except ValidationError as exc:
        raise ValidationError(_library_errors(exc)) from exc


# --- editing lines ----------------------------------------------------------------------------------------------------


_EDITED = [
    "quantity",
    "unit_price",
    "discount_type",
    "discount_value",
    "tax_rate",
    "frequency",
    "term_months",
    "term_weeks",
    "billing_start",
    "billing_start_date",
    "billing_start_delay",
    "unit_cost",
]


def _line_locked(owner: LineOwner, line: LineItem, *, related: tuple = ()) -> LineItem:
    """The line again, under the document's lock; gone in the meantime (deleted in another tab) is a 404."""
    try:
        return owner.lines().select_related(*related).get(pk=line.pk)
    except LineItem.DoesNotExist as exc:
        raise Http404 from exc


def line_item_update(*, owner: LineOwner, line: LineItem, values: LineValues, actor) -> LineItem:
    """Edit one line of this document only; the product it came from is never touched."""
    with transaction.atomic():
        _lock(owner)
        locked = _line_locked(owner, line, related=("tax_rate",))
        if locked.currency != owner.currency:
            # The deal's currency changed after this line was added: its prices mean nothing in the new one.
            raise ValidationError(
                _("This line is priced in %(line)s and the deal is in %(deal)s. Remove it and add it again.")
                % {"line": locked.currency, "deal": owner.currency}
            )
        updated, errors = line_check(locked, values)
        if errors:
            raise ValidationError(errors)
        updated.save(update_fields=_EDITED)
        _changed(owner, actor)
    return updated


def line_item_clone(*, owner: LineOwner, line: LineItem, actor) -> LineItem:
    """A copy of the line, right below it."""
    with transaction.atomic():
        _lock(owner)
        original = _line_locked(owner, line)
        ids = _ordered_ids(owner)
        copy = LineItem(**{f.attname: getattr(original, f.attname) for f in LineItem._meta.concrete_fields})
        copy.pk = copy.id = None
        copy.created_at = timezone.now()
        copy.save()
        ids.insert(ids.index(original.pk) + 1, copy.pk)
        _renumber(owner, ids)
        _changed(owner, actor)
    return copy


def line_item_delete(*, owner: LineOwner, line: LineItem, actor) -> None:
    with transaction.atomic():
        _lock(owner)
        owner.lines().filter(pk=line.pk).delete()
        _changed(owner, actor)


def line_items_reorder(*, owner: LineOwner, ids: list[int], actor) -> None:
    """Put the lines in the order of `ids` (drag and drop), which must name every line of the document once."""
    with transaction.atomic():
        _lock(owner)
        current = _ordered_ids(owner)
        if len(ids) != len(current) or set(ids) != set(current):
            raise ValidationError(
                _("The line items changed while you were sorting them. Reload the page and try again.")
            )
        _renumber(owner, ids)
        _changed(owner, actor)


def line_item_move(*, owner: LineOwner, line: LineItem, direction: str, actor) -> None:
    """One place up or down (the buttons next to each line, for keyboards and phones)."""
    if direction not in ("up", "down"):
        raise ValidationError(_("Move a line up or down."))
    with transaction.atomic():
        _lock(owner)
        ids = _ordered_ids(owner)
        if line.pk not in ids:
            return
        index = ids.index(line.pk)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(ids):
            ids[index], ids[other] = ids[other], ids[index]
            _renumber(owner, ids)
            _changed(owner, actor)


# --- one-time adjustments ---------------------------------------------------------------------------------------------


@dataclass
class AdjustmentValues:
    kind: str
    label: str
    mode: str  # "percent" or "amount"
    value: Decimal | None


def _adjustment_errors(
    owner: LineOwner, values: AdjustmentValues, adjustment: DocumentAdjustment | None
) -> dict[str, list[str]]:
    """The engine's checks on the document's adjustments with this one added or changed, keyed by form field."""
    errors: dict[str, list[str]] = {}
    if values.kind not in AdjustmentKind.values:
        _add(errors, "kind", _("Choose a discount, a fee or a tax."))
    if values.mode not in ("percent", "amount"):
        _add(errors, "mode", _("Choose a percentage or an amount."))
    if values.value is None:
        _add(errors, "value", _("This field is required."))
    elif not values.value.is_finite():
        _add(errors, "value", _("Enter a number."))
    elif values.mode == "percent" and abs(values.value) >= 1000:
        _add(errors, "value", _("Enter a percentage below 1,000."))
    elif values.mode == "percent" and values.value.normalize().as_tuple().exponent < -4:
        _add(errors, "value", _("Use at most %(count)d decimals.") % {"count": 4})
    elif not money_in_bounds(values.value):
        _add(errors, "value", _("Enter a number below %(bound)s.") % {"bound": money_bound_text()})
    if len(values.label.strip()) > 120:
        _add(errors, "label", _("Use at most 120 characters."))
    if errors:
        return errors
    lines = list(owner.lines().select_related("tax_rate"))
    others = list(owner.adjustments().exclude(pk=adjustment.pk if adjustment else None))
    inputs = [adjustment_input(a) for a in others]
    new = pricing.Adjustment(
        kind=pricing.AdjustmentKind(values.kind),
        label=values.label.strip(),
        percent=values.value if values.mode == "percent" else None,
        amount=values.value if values.mode == "amount" else None,
    )
    index = len(inputs)
    try:
        subtotal = pricing.document_summary(
            [line_input(line) for line in lines], [], currency=owner.currency
        ).exact.subtotal
    except pricing.PricingError:
        _add(errors, "value", _("Fix the line items first: they cannot be totalled."))
        return errors
    for position, field, message in pricing.validate_adjustments(
        [*inputs, new], subtotal=subtotal, currency=owner.currency
    ):
        if position == index:
            _add(errors, "value" if field in ("percent", "amount") else field, message)
    if not errors:
        # A fee or tax can still carry the document's total past the bound.
        try:
            pricing.document_summary([line_input(line) for line in lines], [*inputs, new], currency=owner.currency)
        except pricing.PricingError as exc:
            for field, message in exc.errors:
                if field == "total":
                    _add(errors, "value", message)
    return errors


def _apply_adjustment(adjustment: DocumentAdjustment, values: AdjustmentValues) -> None:
    adjustment.kind = values.kind
    adjustment.label = values.label.strip()
    adjustment.percent = values.value if values.mode == "percent" else None
    adjustment.amount = values.value if values.mode == "amount" else None


def adjustment_create(*, owner: LineOwner, values: AdjustmentValues, actor) -> DocumentAdjustment:
    with transaction.atomic():
        _lock(owner)
        if not owner.kind.adjustments:
            raise ValidationError(_("This document takes no one-time discounts, fees or taxes."))
        errors = _adjustment_errors(owner, values, None)
        if errors:
            raise ValidationError(errors)
        top = owner.adjustments().aggregate(top=Max("position"))["top"]
        adjustment = DocumentAdjustment(position=0 if top is None else top + 1, **owner.lookup)
        _apply_adjustment(adjustment, values)
        adjustment.save()
        _changed(owner, actor)
    return adjustment


def adjustment_update(
    *, owner: LineOwner, adjustment: DocumentAdjustment, values: AdjustmentValues, actor
) -> DocumentAdjustment:
    with transaction.atomic():
        _lock(owner)
        locked = owner.adjustments().filter(pk=adjustment.pk).first()
        if locked is None:
            raise Http404
        errors = _adjustment_errors(owner, values, locked)
        if errors:
            raise ValidationError(errors)
        _apply_adjustment(locked, values)
        locked.save(update_fields=["kind", "label", "percent", "amount"])
        _changed(owner, actor)
    return locked


def adjustment_delete(*, owner: LineOwner, adjustment: DocumentAdjustment, actor) -> None:
    with transaction.atomic():
        _lock(owner)
        owner.adjustments().filter(pk=adjustment.pk).delete()
        _changed(owner, actor)


# --- the deal amount --------------------------------------------------------------------------------------------------


def deal_amount_update_from_lines(*, owner: LineOwner, expected: Money | None = None, actor):
    """Set the deal amount to its lines' total contract value (see billing.editor.deal_amount_from_lines), through
    the CRM's record service so the change is validated, evented and timed like any other edit of the deal.

    `expected` is the amount the user confirmed: recomputed under the deal's lock, it must still be the same, so a
    colleague's edit between the question and the answer never writes an amount nobody saw."""
    from crm.services.records import record_update

    with transaction.atomic():
        _lock(owner)
        lines = list(owner.lines().select_related("tax_rate"))
        try:
            amount = money(deal_amount_from_lines(lines, currency=owner.currency), owner.currency)
        except pricing.PricingError as exc:
            raise ValidationError([message for _field, message in exc.errors]) from exc
        if expected is not None and amount != expected:
            raise ValidationError(_("The line items changed while you were deciding. Check the new total."))
        # Recurring lines multiply over their term, so lines within the bound can still exceed it as a deal amount.
        money_check(amount.amount)
        return record_update(
            record=owner.obj, changes={"amount": amount.amount, "amount_currency": owner.currency}, actor=actor
        )
