"""The line item editor's adapter: documents that own lines, and the one translation between the models
(LineItem, DocumentAdjustment, TaxRate) and the pricing engine's inputs. Nothing here computes money; the engine
does (billing.pricing).

A document kind (deals and invoices now; quotes, payment links and subscriptions later) joins the editor by
registering an OwnerKind: its model, the LineItem / DocumentAdjustment column that points at it, the permissions to
view and to edit its lines, its page, and the currency its lines are in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Model, QuerySet

from billing import pricing
from billing.models import DocumentAdjustment, LineItem
from commerce_hub.organization.selectors import organization_profile_cached


@dataclass(frozen=True)
class OwnerKind:
    kind: str  # also the URL name prefix: "deal" -> "billing:deal_line_items"
    model: type[Model]
    column: str  # the LineItem / DocumentAdjustment foreign key to the owner
    view_perm: str
    edit_perm: str
    detail_url: Callable[[Model], str]
    title: Callable[[Model], str]
    currency: Callable[[Model], str]
    # Why this document's lines cannot change now ("" when they can): a finalized invoice is frozen.
    locked_reason: Callable[[Model], str] = lambda obj: ""
    active_nav: str = ""
    # The URL segment before the owner's id: "deals" -> /billing/deals/<id>/line-items/ ("<kind>s" when empty).
    url_segment: str = ""
    # Called as on_lines_changed(obj, actor) inside the transaction of every change to the document's lines or
    # adjustments, after the change and under the document's lock: a quote reprices itself and copies its lines onto
    # its deal, so a failure there undoes the edit too.
    on_lines_changed: Callable[[Model, object], None] | None = None
    # Whether the document takes one-time adjustments (DocumentAdjustment has a column for it): payment links do not.
    adjustments: bool = True


@dataclass(frozen=True)
class LineOwner:
    """One document whose lines the editor shows: a deal now."""

    kind: OwnerKind
    obj: Model
    currency: str

    @property
    def pk(self) -> int:
        return self.obj.pk

    @property
    def lookup(self) -> dict:
        return {self.kind.column: self.obj}

    @property
    def url_prefix(self) -> str:
        return f"billing:{self.kind.kind}"

    @property
    def title(self) -> str:
        return self.kind.title(self.obj)

    @property
    def detail_url(self) -> str:
        return self.kind.detail_url(self.obj)

    def lines(self) -> QuerySet[LineItem]:
        return LineItem.objects.filter(**self.lookup)

    def adjustments(self) -> QuerySet[DocumentAdjustment]:
        if not self.kind.adjustments:
            return DocumentAdjustment.objects.none()
        return DocumentAdjustment.objects.filter(**self.lookup)


def company_currency() -> str:
    return organization_profile_cached().default_currency or "EUR"


# Owner kinds by name. Each document kind registers itself from billing's AppConfig (billing/line_item_owners.py);
# a later app (quotes, subscriptions) registers its own, and the editor's views and URLs serve it unchanged.
_owner_kinds: dict[str, OwnerKind] = {}


def register_owner_kind(kind: OwnerKind) -> None:
    _owner_kinds[kind.kind] = kind


def owner_kind_get(kind: str) -> OwnerKind:
    """The registered kind; KeyError for a name nobody registered."""
    return _owner_kinds[kind]


def owner_kinds() -> dict[str, OwnerKind]:
    return dict(_owner_kinds)


def owner_for(kind: str, obj: Model) -> LineOwner:
    owner_kind = owner_kind_get(kind)
    return LineOwner(kind=owner_kind, obj=obj, currency=owner_kind.currency(obj))


# --- models -> engine -------------------------------------------------------------------------------------------


def tiers_input(rows: Iterable[dict]) -> tuple[pricing.Tier, ...]:
    """The tiers a line copied from its product, stored as JSON text ({"up_to": "10", "unit_price": "5", ...})."""
    return tuple(
        pricing.Tier(
            up_to=None if row.get("up_to") in (None, "") else Decimal(str(row["up_to"])),
            unit_price=Decimal(str(row.get("unit_price") or 0)),
            flat_fee=Decimal(str(row.get("flat_fee") or 0)),
        )
        for row in rows or ()
    )


def line_input(line: LineItem) -> pricing.LineInput:
    """A LineItem as the engine reads it. The tax rate comes from the line's TaxRate (select_related it)."""
    rate = line.tax_rate
    return pricing.LineInput(
        quantity=line.quantity,
        unit_price=line.unit_price,
        currency=line.currency,
        pricing_model=pricing.PricingModel(line.pricing_model),
        tiers=tiers_input(line.tiers),
        package_size=line.package_size,
        discount_type=pricing.DiscountType(line.discount_type) if line.discount_type else None,
        discount_value=line.discount_value if line.discount_type else Decimal(0),
        tax_rate=rate.rate if rate is not None else Decimal(0),
        tax_label=rate.name if rate is not None else "",
        reverse_charge=bool(rate is not None and rate.is_reverse_charge),
        frequency=pricing.Frequency(line.frequency),
        term_months=line.term_months,
        term_weeks=line.term_weeks,
        unit_cost=line.unit_cost,
    )


def adjustment_input(adjustment: DocumentAdjustment) -> pricing.Adjustment:
    return pricing.Adjustment(
        kind=pricing.AdjustmentKind(adjustment.kind),
        label=adjustment.label,
        percent=adjustment.percent,
        amount=adjustment.amount,
    )


def summary(
    lines: Sequence[LineItem], adjustments: Sequence[DocumentAdjustment], *, currency: str
) -> pricing.DocumentSummary:
    return pricing.document_summary(
        [line_input(line) for line in lines], [adjustment_input(a) for a in adjustments], currency=currency
    )


def deal_amount_from_lines(lines: Sequence[LineItem], *, currency: str) -> Decimal:
    """What the deal amount becomes from its lines: their total contract value, HubSpot's rule.

    That is the net (after the lines' unit discounts, before VAT) of every one-time line plus every recurring
    line's net per period times its payments over the term (one year without a term). The summary's one-time
    discounts, fees and taxes are left out on purpose, so they are not passed to the engine here.
    """
    return summary(lines, [], currency=currency).tcv
