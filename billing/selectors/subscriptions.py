"""Reads of subscriptions: the Subscriptions panel of deals, companies and contacts, and a quote's subscriptions,
each with what it bills per period (the pricing engine's total of its lines, VAT included)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from billing import editor, pricing
from billing.models import LineItem, Subscription, SubscriptionStatus
from billing.models.choices import Frequency

PANEL_LIMIT = 10
STATUS_BADGES = {
    SubscriptionStatus.SCHEDULED: "stage-open",
    SubscriptionStatus.ACTIVE: "badge-ok",
    SubscriptionStatus.PAUSED: "badge-muted",
    SubscriptionStatus.PAST_DUE: "badge-danger",
    SubscriptionStatus.CANCELED: "badge-muted",
    SubscriptionStatus.ENDED: "badge-muted",
}
_RECORD_FILTERS = {"deal": "deal", "company": "company", "contact": "contact"}


@dataclass(frozen=True)
class SubscriptionRow:
    subscription: Subscription
    status_label: str
    badge: str
    frequency_label: str
    amount: Decimal | None  # per period, VAT included; None while a line cannot be priced

    @property
    def pk(self) -> int:
        return self.subscription.pk


def _with_lines(queryset: QuerySet[Subscription]) -> QuerySet[Subscription]:
    lines = LineItem.objects.select_related("tax_rate").order_by("position", "id")
    return queryset.prefetch_related(Prefetch("line_items", queryset=lines))


def subscription_period_amount(subscription: Subscription) -> Decimal | None:
    """What one period of the subscription bills (its lines' total with VAT), from prefetched lines if present."""
    try:
        lines = list(subscription.line_items.all())
        return editor.summary(lines, [], currency=subscription.currency).total if lines else Decimal(0)
    except pricing.PricingError:
        return None


def subscription_rows(subscriptions) -> list[SubscriptionRow]:
    return [
        SubscriptionRow(
            subscription=s,
            status_label=str(SubscriptionStatus(s.status).label),
            badge=STATUS_BADGES.get(s.status, "badge-muted"),
            frequency_label=str(Frequency(s.frequency).label),
            amount=subscription_period_amount(s),
        )
        for s in subscriptions
    ]


def subscription_panel_rows(*, object_type: str, record) -> tuple[list[SubscriptionRow], bool]:
    """The record's newest subscriptions and whether there are more than the panel shows (one more is read to know)."""
    queryset = Subscription.objects.filter(**{_RECORD_FILTERS[object_type]: record})
    rows = list(_with_lines(queryset).order_by("-created_at", "-id")[: PANEL_LIMIT + 1])
    return subscription_rows(rows[:PANEL_LIMIT]), len(rows) > PANEL_LIMIT


def quote_subscription_rows(quote) -> list[SubscriptionRow]:
    return subscription_rows(_with_lines(Subscription.objects.filter(source_quote=quote)).order_by("start_date", "id"))
