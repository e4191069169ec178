"""Reads of the line item editor: a document's lines and adjustments priced by the engine, the library picker, and
the deal panel."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import pricing
from billing.editor import LineOwner, adjustment_input, company_currency, line_input
from billing.models import DocumentAdjustment, LineItem, Product
from billing.models.choices import BillingStart, Frequency, PricingModel
from billing.selectors.exchange_rates import RateQuote, exchange_rate_on
from billing.selectors.products import decimal_format, folder_descendants, unit_price_format
from billing.selectors.tax_rates import tax_rate_label

_L = gettext_lazy

# Optional columns of the editor, in table order; each user picks theirs (kept in the session).
COLUMNS = [
    ("sku", _L("SKU")),
    ("discount", _L("Discount")),
    ("tax", _L("Tax rate")),
    ("frequency", _L("Billing frequency")),
    ("term", _L("Term")),
    ("billing_start", _L("Billing start")),
    ("unit_cost", _L("Unit cost")),
    ("vat", _L("VAT")),
    ("total", _L("Total")),
    ("margin", _L("Margin")),
]
DEFAULT_COLUMNS = ["discount", "tax", "frequency", "term"]
LIBRARY_LIMIT = 50


def owner_lines(owner: LineOwner) -> list[LineItem]:
    return list(owner.lines().select_related("tax_rate").order_by("position", "id"))


def owner_adjustments(owner: LineOwner) -> list[DocumentAdjustment]:
    return list(owner.adjustments().order_by("position", "id"))


@dataclass
class LineRow:
    line: LineItem
    result: pricing.LineResult | None
    errors: list[str] = field(default_factory=list)


@dataclass
class AdjustmentRow:
    adjustment: DocumentAdjustment
    applied: pricing.AppliedAdjustment | None
    errors: list[str] = field(default_factory=list)


@dataclass
class EditorState:
    owner: LineOwner
    currency: str
    rows: list[LineRow]
    adjustments: list[AdjustmentRow]
    summary: pricing.DocumentSummary | None  # None when a line cannot be priced
    problems: list[str]

    @property
    def discount(self) -> Decimal | None:
        """Unit discounts of the lines and one-time discounts together: both are rounded engine amounts."""
        s = self.summary
        return None if s is None else s.discount_total + s.one_time_discount_total

    @property
    def tax(self) -> Decimal | None:
        s = self.summary
        return None if s is None else s.vat_total + s.one_time_tax_total

    @property
    def deal_amount(self) -> Decimal | None:
        """What "update the deal amount" proposes: the lines' TCV, one-time adjustments left out."""
        return None if self.summary is None else self.summary.tcv


def _line_messages(exc: pricing.PricingError) -> list[str]:
    return [message for _field, message in exc.errors]


def editor_state(owner: LineOwner, lines: list[LineItem] | None = None) -> EditorState:
    """Every line and adjustment priced by the engine in one go.

    A document whose lines or adjustments no longer pass the engine's checks (an adjustment larger than what is
    left after a line was deleted, say) still shows: the failing rows carry their messages and the totals that
    can be computed are shown.
    """
    lines = owner_lines(owner) if lines is None else lines
    adjustments = owner_adjustments(owner)
    inputs = [line_input(line) for line in lines]
    adjustment_inputs = [adjustment_input(a) for a in adjustments]
    rows = [LineRow(line, None) for line in lines]
    adjustment_rows = [AdjustmentRow(a, None) for a in adjustments]
    problems: list[str] = []
    summary = None
    try:
        summary = pricing.document_summary(inputs, adjustment_inputs, currency=owner.currency)
    except pricing.PricingError as exc:
        line_errors = [(f, m) for f, m in exc.errors if not f.startswith("adjustments[")]
        if line_errors:
            for name, message in line_errors:
                match = re.match(r"lines\[(\d+)\]", name)
                if match:
                    rows[int(match.group(1))].errors.append(message)
                else:
                    problems.append(message)
            problems.insert(0, _("Some line items cannot be priced; fix them to see the totals."))
        else:
            for name, message in exc.errors:
                match = re.match(r"adjustments\[(\d+)\]", name)
                if match:
                    adjustment_rows[int(match.group(1))].errors.append(message)
            problems.append(_("Some one-time adjustments no longer fit the subtotal; they are left out below."))
            valid = [i for i, row in enumerate(adjustment_rows) if not row.errors]
            try:
                summary = pricing.document_summary(
                    inputs, [adjustment_inputs[i] for i in valid], currency=owner.currency
                )
            except pricing.PricingError:
                summary, valid = pricing.document_summary(inputs, [], currency=owner.currency), []
            for position, index in enumerate(valid):
                adjustment_rows[index].applied = summary.adjustments[position]
        if summary is None:
            for row, line_in in zip(rows, inputs, strict=True):
                if not row.errors:
                    try:
                        row.result = pricing.line_result(line_in)
                    except pricing.PricingError as line_exc:
                        row.errors.extend(_line_messages(line_exc))
    else:
        for row, applied in zip(adjustment_rows, summary.adjustments, strict=True):
            row.applied = applied
    if summary is not None:
        for row, result in zip(rows, summary.lines, strict=True):
            row.result = result
    return EditorState(
        owner=owner,
        currency=owner.currency,
        rows=rows,
        adjustments=adjustment_rows,
        summary=summary,
        problems=problems,
    )


# --- how a line reads -------------------------------------------------------------------------------------------------


def term_text(line: LineItem) -> str:
    if line.term_weeks:
        return _("%(count)s weeks") % {"count": line.term_weeks} if line.term_weeks != 1 else _("1 week")
    if line.term_months:
        return _("%(count)s months") % {"count": line.term_months} if line.term_months != 1 else _("1 month")
    return "" if line.frequency == Frequency.ONE_TIME else _("No fixed term")


def billing_start_text(line: LineItem) -> str:
    if line.billing_start == BillingStart.DATE and line.billing_start_date:
        return formats.date_format(line.billing_start_date, "SHORT_DATE_FORMAT")
    if line.billing_start == BillingStart.DELAY_DAYS and line.billing_start_delay is not None:
        return _("After %(count)s days") % {"count": line.billing_start_delay}
    if line.billing_start == BillingStart.DELAY_MONTHS and line.billing_start_delay is not None:
        return _("After %(count)s months") % {"count": line.billing_start_delay}
    return _("At checkout")


PERIODS = {
    Frequency.WEEKLY: _L("/ week"),
    Frequency.BIWEEKLY: _L("/ 2 weeks"),
    Frequency.MONTHLY: _L("/ month"),
    Frequency.QUARTERLY: _L("/ quarter"),
    Frequency.SEMIANNUAL: _L("/ 6 months"),
    Frequency.ANNUAL: _L("/ year"),
    Frequency.BIENNIAL: _L("/ 2 years"),
    Frequency.TRIENNIAL: _L("/ 3 years"),
    Frequency.QUADRENNIAL: _L("/ 4 years"),
    Frequency.QUINQUENNIAL: _L("/ 5 years"),
}


def row_texts(row: LineRow, currency: str) -> dict:
    """How one line reads in the table and on the deal panel (figures come from the engine's result)."""
    line = row.line
    if line.pricing_model in (PricingModel.VOLUME, PricingModel.GRADUATED):
        price_text = str(PricingModel(line.pricing_model).label)
    elif line.pricing_model == PricingModel.PACKAGE:
        price_text = _("%(price)s per %(size)s") % {
            "price": unit_price_format(line.unit_price, currency),
            "size": decimal_format(line.package_size),
        }
    else:
        price_text = unit_price_format(line.unit_price, currency)
    if line.discount_type == "percent":
        discount_text = f"{decimal_format(line.discount_value)}%"
    elif line.discount_type == "amount":
        discount_text = _("%(amount)s per unit") % {"amount": unit_price_format(line.discount_value, currency)}
    else:
        discount_text = ""
    return {
        "row": row,
        "line": line,
        "quantity_text": decimal_format(line.quantity),
        "price_text": price_text,
        "discount_text": discount_text,
        "tax_text": tax_rate_label(line.tax_rate) if line.tax_rate_id else "",
        "cost_text": unit_price_format(line.unit_cost, currency),
        "term_text": term_text(line),
        "start_text": billing_start_text(line),
        "period_text": PERIODS.get(line.frequency, ""),
    }


# --- the library picker -----------------------------------------------------------------------------------------------


@dataclass
class LibraryRow:
    product: Product
    price: Decimal | None  # in the document's currency; None: not sold in it (or a bundle of its parts)
    priced_by_tiers: bool
    priced_by_parts: bool = False


def library_search(*, currency: str, search: str = "", folder_id: int | None = None, frequency: str = "") -> tuple:
    """Active products matching the search (name, SKU, description) and filters, with their price in `currency`;
    at most LIBRARY_LIMIT rows (and whether there were more), in three queries."""
    qs = (
        Product.objects.filter(is_archived=False)
        .select_related("folder", "tax_rate")
        .prefetch_related("prices", "tiers")
        .order_by("name", "id")
    )
    search = search.strip()[:100]
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(sku__icontains=search) | Q(description__icontains=search))
    if folder_id is not None:
        qs = qs.filter(folder_id__in=folder_descendants(folder_id))
    if frequency in Frequency.values:
        qs = qs.filter(billing_frequency=frequency)
    products = list(qs[: LIBRARY_LIMIT + 1])
    rows = []
    for product in products[:LIBRARY_LIMIT]:
        price = next((p.unit_price for p in product.prices.all() if p.currency == currency), None)
        tiered = product.pricing_model in (PricingModel.VOLUME, PricingModel.GRADUATED)
        if tiered and not any(t.currency == currency for t in product.tiers.all()):
            price = None
        by_parts = product.is_bundle and product.bundle_pricing == Product.BundlePricing.SUM
        rows.append(LibraryRow(product, price, tiered, by_parts))
    return rows, len(products) > LIBRARY_LIMIT


# --- the deal panel ---------------------------------------------------------------------------------------------------


@dataclass
class Converted:
    amount: Decimal
    currency: str
    quote: RateQuote


def converted_total(state: EditorState) -> tuple[Converted | None, str]:
    """The document total in the company currency at today's rate, when the document is in another currency.

    Returns (conversion, "") or (None, the company currency when no rate is known yet, else "").
    """
    target = company_currency()
    if state.summary is None or state.currency == target:
        return None, ""
    quote = exchange_rate_on(state.currency, target, timezone.localdate())
    if quote is None:
        return None, target
    return Converted(quote.apply(state.summary.total), target, quote), ""
