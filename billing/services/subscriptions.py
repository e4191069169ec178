"""Subscriptions: creating them from a quote's recurring lines (their calendar is billing.billing_calendar).

From a quote
    Each recurring line starts on its billing start: at checkout (the payment date, or the date the quote was
    accepted when it collects no payment), on a custom date, or a number of days or months after checkout. Lines of
    the same billing frequency and start date share one subscription (one per quote, frequency and start date: a
    unique constraint, so a checkout completed twice creates nothing new). A subscription whose first period was
    paid at checkout is active and next bills one period later; the others next bill on their start date, and are
    scheduled until it comes.

Collection
    Charging a saved payment method automatically is the payments app's concept: billing never imports it. A
    subscription collects by sending invoices unless an app above registers a resolver
    (subscription_payment_method_register) that names the saved method the buyer's checkout left behind; then it is
    charged automatically with that method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from billing import editor, events, pricing
from billing.billing_calendar import period_bounds
from billing.documents import invoice_settings_get
from billing.models import CollectionMethod, Invoice, LineItem, Quote, Subscription, SubscriptionStatus
from billing.models.choices import Frequency
from billing.quote_payment_plan import line_start_date
from billing.services.invoices import LINE_COPY_FIELDS
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.services import event_emit

# --- collection (the seam for payments) -------------------------------------------------------------------------------

# fn(quote=..., invoice=...) -> the public id of the saved payment method the buyer's checkout left, or "" (quote is
# None for a payment link's purchase).
_payment_method_resolver: Callable[..., str] | None = None


def subscription_payment_method_register(fn: Callable[..., str] | None) -> None:
    """Register `fn(*, quote, invoice) -> str`: the saved payment method (payments' public id) that pays a quote's
    subscriptions automatically after its checkout invoice was paid, or "" for none. Billing never imports payments;
    payments registers this from its AppConfig once it saves methods at checkout."""
    global _payment_method_resolver
    _payment_method_resolver = fn


def subscription_saved_payment_method(quote: Quote | None, invoice: Invoice | None) -> str:
    """The saved payment method the checkout that paid `invoice` left behind, or "" (see the register function)."""
    if _payment_method_resolver is None or invoice is None:
        return ""
    return (_payment_method_resolver(quote=quote, invoice=invoice) or "")[:64]


# --- creating from a quote --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    frequency: str
    start_date: date
    paid_at_checkout: bool
    lines: tuple[LineItem, ...]


def subscription_term_periods(lines: Iterable[LineItem], frequency: str) -> int | None:
    """The subscription's term in periods: the longest of its lines' terms (each line keeps its own term, so a line
    with a shorter one stops being billed after it), or none when some line runs until canceled."""
    rule = pricing.frequency_rule(frequency)
    terms = [line.term_weeks if rule.term_unit == "weeks" else line.term_months for line in lines]
    if not terms or any(term is None for term in terms):
        return None
    return max(terms) // rule.period_length or None


def _groups(lines: list[LineItem], *, start: date, paid_line_ids: set[int]) -> list[_Group]:
    """The quote's recurring lines grouped by frequency and start date. Lines billed at checkout start on `start`;
    the others on their own billing start counted from it, and never on or before it: a custom date that passed
    while the buyer took their time starts the day after checkout, so it never joins (and never goes unbilled in)
    the subscription whose first period the checkout paid."""
    grouped: dict[tuple[str, date], list[LineItem]] = {}
    paid: dict[tuple[str, date], bool] = {}
    for line in lines:
        if line.frequency == Frequency.ONE_TIME:
            continue
        if line.pk in paid_line_ids:
            key = (line.frequency, start)
        else:
            begins = line_start_date(line, checkout=start)
            if paid_line_ids and begins <= start:
                begins = start + timedelta(days=1)
            key = (line.frequency, begins)
        grouped.setdefault(key, []).append(line)
        paid[key] = line.pk in paid_line_ids
    return [
        _Group(frequency, begins, paid[(frequency, begins)], tuple(group))
        for (frequency, begins), group in sorted(grouped.items(), key=lambda item: (item[0][1], item[0][0]))
    ]


def _name(quote: Quote, frequency: str) -> str:
    with override(quote.language):
        label = str(Frequency(frequency).label)
        return (_("%(title)s (%(frequency)s)") % {"title": quote.title, "frequency": label.lower()})[:200]


@transaction.atomic
def subscriptions_create_from_quote(
    *,
    quote: Quote,
    start: date,
    paid_line_ids: Iterable[int] = (),
    invoice: Invoice | None = None,
    today: date,
    actor=None,
) -> list[Subscription]:
    """Create the quote's subscriptions, once: a subscription that exists already for a frequency and start date is
    kept as it is. `start` is the checkout date (the payment's, or the acceptance's when the quote collects no
    payment); `paid_line_ids` are the recurring lines whose first period the checkout invoice `invoice` billed.
    Returns the subscriptions created now."""
    lines = list(LineItem.objects.filter(quote=quote).select_related("tax_rate").order_by("position", "id"))
    groups = _groups(lines, start=start, paid_line_ids=set(paid_line_ids))
    if not groups:
        return []
    contact = quote.contacts.order_by("last_name", "first_name", "id").first()
    method_ref = subscription_saved_payment_method(quote, invoice)
    terms = invoice_settings_get().payment_terms_days
    created = []
    for group in groups:
        anchor = group.start_date.day
        if group.paid_at_checkout:
            period_start, period_end = period_bounds(start=group.start_date, frequency=group.frequency, index=0)
            next_billing = period_end + timedelta(days=1)
            status = SubscriptionStatus.ACTIVE
        else:
            period_start = period_end = None
            next_billing = group.start_date
            status = SubscriptionStatus.SCHEDULED if group.start_date > today else SubscriptionStatus.ACTIVE
        try:
            with transaction.atomic():
                subscription = Subscription.objects.create(
                    status=status,
                    name=_name(quote, group.frequency),
                    currency=quote.currency,
                    frequency=group.frequency,
                    company=quote.company,
                    contact=contact,
                    deal=quote.deal,
                    source_quote=quote,
                    start_date=group.start_date,
                    billing_anchor=group.start_date,
                    anchor_day=anchor,
                    next_period_index=1 if group.paid_at_checkout else 0,
                    periods_billed=1 if group.paid_at_checkout else 0,
                    current_period_start=period_start,
                    current_period_end=period_end,
                    next_billing_date=next_billing,
                    term_periods=subscription_term_periods(group.lines, group.frequency),
                    collection_method=(
                        CollectionMethod.CHARGE_AUTOMATICALLY if method_ref else CollectionMethod.SEND_INVOICE
                    ),
                    payment_method_ref=method_ref,
                    payment_terms_days=terms,
                    created_by=actor if getattr(actor, "pk", None) else None,
                )
        except IntegrityError:
            continue  # created by an earlier run (billing_sub_once_per_quote_group)
        LineItem.objects.bulk_create(
            [
                LineItem(subscription=subscription, **{name: getattr(line, name) for name in LINE_COPY_FIELDS})
                for line in group.lines
            ]
        )
        audit_record(
            actor=actor if getattr(actor, "pk", None) else None,
            action="subscription.created",
            obj=subscription,
            object_repr=subscription.name,
            after={"quote": quote.number, "frequency": group.frequency, "start_date": group.start_date.isoformat()},
        )
        event_emit(
            name=events.SUBSCRIPTION_CREATED,
            payload={
                "id": subscription.pk,
                "quote_id": quote.pk,
                "deal_id": quote.deal_id,
                "frequency": group.frequency,
                "start_date": group.start_date.isoformat(),
            },
        )
        created.append(subscription)
    return created


def subscription_email_rows(subscriptions: list[Subscription]) -> list[dict]:
    """The new subscriptions as a confirmation email lists them: each with its frequency and what one period
    costs (the pricing engine's total of its lines)."""
    rows = []
    for subscription in subscriptions:
        lines = list(LineItem.objects.filter(subscription=subscription).select_related("tax_rate"))
        rows.append(
            {
                "subscription": subscription,
                "frequency": Frequency(subscription.frequency).label,
                "amount": editor.summary(lines, [], currency=subscription.currency).total,
            }
        )
    return rows
