"""Reads of payment links: the index (purchases and revenue per link, set-based), a link's record page (its
purchases and totals), the buyer's page (a link by its token), and what a purchase of a quantity costs.

Prices
    A purchase bills, today, every one-time line and the first period of every recurring line (none of the recurring
    lines while the link gives a trial), with the link's one-time adjustments; each line's quantity is multiplied by
    the quantity the buyer chose. The pricing engine prices the copies exactly as the invoice will be priced, so the
    buyer's page, the invoice and the confirmation show one amount. Recurring lines are then billed per period by
    their subscription (one per billing frequency), from the purchase date or the trial's end.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from billing import editor, pricing
from billing.models import DocumentAdjustment, LineItem, PaymentLink, PaymentLinkPurchase
from billing.models.choices import Frequency
from billing.models.payment_links import PurchaseStatus
from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from commerce_hub.pagination import Page, keyset_page

# A link's token: URL-safe base64 of 256 random bits (43 characters). Anything else is not looked up at all.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
ZERO = Decimal(0)
_MONEY = DecimalField(max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES)


# --- lookups ----------------------------------------------------------------------------------------------------------


def payment_link_by_token(token: str) -> PaymentLink | None:
    """The link behind a buyer's URL (active or not: the page says which); None for anything else."""
    if not _TOKEN.match(token or ""):
        return None
    return PaymentLink.objects.filter(public_token=token).first()


def payment_link_purchase_by_public_id(link: PaymentLink, public_id: str) -> PaymentLinkPurchase | None:
    """Only a purchase of this link: another link's or another tenant's id is not found."""
    if not _PUBLIC_ID.match(public_id or ""):
        return None
    return PaymentLinkPurchase.objects.select_related("invoice").filter(link=link, public_id=public_id).first()


def payment_link_lines(link: PaymentLink) -> list[LineItem]:
    return list(LineItem.objects.filter(payment_link=link).select_related("tax_rate").order_by("position", "id"))


def payment_link_adjustments(link: PaymentLink) -> list[DocumentAdjustment]:
    """A link has no one-time adjustments (its lines carry their own discounts): nothing to read."""
    return []


# --- prices -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecurringCharge:
    frequency: str
    frequency_label: str
    lines: tuple[LineItem, ...]
    summary: pricing.DocumentSummary  # one period, VAT included in total

    @property
    def total(self) -> Decimal:
        return self.summary.total


@dataclass(frozen=True)
class LinkPricing:
    """What buying `quantity` of a link costs: the lines billed today and their summary (None when nothing is billed
    today: a trial of recurring lines only), and each billing frequency's charge per period."""

    quantity: int
    currency: str
    lines_today: list[LineItem]
    adjustments: list[DocumentAdjustment]
    today: pricing.DocumentSummary | None
    recurring: list[RecurringCharge] = field(default_factory=list)
    trial_days: int | None = None

    @property
    def total_today(self) -> Decimal:
        return self.today.total if self.today is not None else ZERO


def scaled_lines(lines: list[LineItem], quantity: int) -> list[LineItem]:
    """Unsaved copies of `lines` with every quantity multiplied by `quantity` (the tax rate object kept, so the
    engine prices them without a query)."""
    scaled = []
    for line in lines:
        line_copy = copy.copy(line)
        line_copy.pk = line_copy.id = None
        line_copy.quantity = line.quantity * quantity
        scaled.append(line_copy)
    return scaled


def has_recurring(lines: list[LineItem]) -> bool:
    return any(line.frequency != Frequency.ONE_TIME for line in lines)


def payment_link_pricing(
    link: PaymentLink,
    *,
    quantity: int = 1,
    lines: list[LineItem] | None = None,
    adjustments: list[DocumentAdjustment] | None = None,
) -> LinkPricing:
    """The link's prices for `quantity` (see the module's docstring). Raises pricing.PricingError when the engine
    refuses the lines (an amount past the documented bound)."""
    lines = payment_link_lines(link) if lines is None else lines
    adjustments = payment_link_adjustments(link) if adjustments is None else adjustments
    scaled = scaled_lines(lines, quantity)
    trial = bool(link.trial_days) and has_recurring(scaled)
    today_lines = [line for line in scaled if line.frequency == Frequency.ONE_TIME or not trial]
    today = editor.summary(today_lines, adjustments, currency=link.currency) if today_lines else None
    recurring = []
    for frequency in Frequency.values:
        group = tuple(line for line in scaled if line.frequency == frequency and frequency != Frequency.ONE_TIME)
        if group:
            recurring.append(
                RecurringCharge(
                    frequency=frequency,
                    frequency_label=str(Frequency(frequency).label),
                    lines=group,
                    summary=editor.summary(list(group), [], currency=link.currency),
                )
            )
    return LinkPricing(
        quantity=quantity,
        currency=link.currency,
        lines_today=today_lines,
        adjustments=adjustments if today_lines else [],
        today=today,
        recurring=recurring,
        trial_days=link.trial_days if trial else None,
    )


def trial_end_for(link: PaymentLink, purchased_on: date) -> date | None:
    return purchased_on + timedelta(days=link.trial_days) if link.trial_days else None


def price_summary(link: PaymentLink, lines: list[LineItem]) -> list[tuple[str, Decimal]]:
    """The link's price as the index shows it: the one-time net and each frequency's net per period, before VAT
    (frequency key "one_time" first). Empty for a link without lines or that cannot be priced."""
    try:
        rows = []
        one_time = [line for line in lines if line.frequency == Frequency.ONE_TIME]
        if one_time:
            rows.append((Frequency.ONE_TIME.value, editor.summary(one_time, [], currency=link.currency).subtotal))
        for frequency in Frequency.values:
            group = [line for line in lines if line.frequency == frequency and frequency != Frequency.ONE_TIME]
            if group:
                rows.append((frequency, editor.summary(group, [], currency=link.currency).subtotal))
        return rows
    except pricing.PricingError:
        return []


# --- the index --------------------------------------------------------------------------------------------------------

INDEX_ORDERING = ["-created_at", "-id"]
PAGE_SIZE = 50


def _paid_purchases() -> QuerySet:
    return PaymentLinkPurchase.objects.filter(link=OuterRef("pk"), status=PurchaseStatus.PAID)


def payment_links_with_figures() -> QuerySet[PaymentLink]:
    """Links with paid_count (paid purchases) and revenue (the sum of their paid invoices' totals, in the link's
    currency: a link's currency cannot change once it was bought), each a correlated aggregate over the purchases'
    (link, status) index, so the page is one query however many purchases there are."""
    count = _paid_purchases().order_by().values("link").annotate(n=Count("pk")).values("n")
    revenue = (
        _paid_purchases()
        .filter(invoice__isnull=False)
        .order_by()
        .values("link")
        .annotate(total=Sum("invoice__total"))
        .values("total")
    )
    return PaymentLink.objects.annotate(
        paid_count=Coalesce(Subquery(count), Value(0)),
        revenue=Coalesce(Subquery(revenue, output_field=_MONEY), Value(ZERO), output_field=_MONEY),
    )


@dataclass
class IndexRow:
    link: PaymentLink
    prices: list[tuple[str, Decimal]]


def payment_link_index(*, cursor: str | None, status: str = "") -> tuple[Page, list[IndexRow]]:
    """One page of the index, newest first (keyset pagination), with each link's figures and price summary: the
    page's query, and one for the page's lines with their tax rates."""
    qs = payment_links_with_figures()
    if status == "active":
        qs = qs.filter(active=True)
    elif status == "inactive":
        qs = qs.filter(active=False)
    page = keyset_page(qs, ordering=INDEX_ORDERING, cursor=cursor, size=PAGE_SIZE)
    by_link: dict[int, list[LineItem]] = {link.pk: [] for link in page.rows}
    if by_link:
        for line in (
            LineItem.objects.filter(payment_link_id__in=list(by_link))
            .select_related("tax_rate")
            .order_by("position", "id")
        ):
            by_link[line.payment_link_id].append(line)
    return page, [IndexRow(link=link, prices=price_summary(link, by_link[link.pk])) for link in page.rows]


def payment_link_revenue_by_currency() -> list[tuple[str, int, Decimal]]:
    """Every link's paid purchases and revenue, per currency: (currency, purchases, revenue), one query."""
    rows = (
        PaymentLinkPurchase.objects.filter(status=PurchaseStatus.PAID)
        .values("link__currency")
        .annotate(n=Count("pk"), total=Coalesce(Sum("invoice__total"), Value(ZERO), output_field=_MONEY))
        .order_by("link__currency")
    )
    return [(row["link__currency"], row["n"], row["total"]) for row in rows]


# --- a link's record page ---------------------------------------------------------------------------------------------

PURCHASE_ORDERING = ["-created_at", "-id"]


def payment_link_purchases(link: PaymentLink, *, cursor: str | None, size: int = 25) -> Page:
    qs = PaymentLinkPurchase.objects.filter(link=link).select_related("invoice", "contact", "company")
    return keyset_page(qs, ordering=PURCHASE_ORDERING, cursor=cursor, size=size)


@dataclass(frozen=True)
class LinkTotals:
    paid: int
    open: int
    revenue: Decimal


def payment_link_totals(link: PaymentLink) -> LinkTotals:
    figures = PaymentLinkPurchase.objects.filter(link=link).aggregate(
        paid=Count("pk", filter=Q(status=PurchaseStatus.PAID)),
        open=Count("pk", filter=Q(status=PurchaseStatus.OPEN)),
        revenue=Coalesce(Sum("invoice__total", filter=Q(status=PurchaseStatus.PAID)), Value(ZERO), output_field=_MONEY),
    )
    return LinkTotals(paid=figures["paid"], open=figures["open"], revenue=figures["revenue"])
