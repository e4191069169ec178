"""Creating a subscription by hand, from a contact, a company or a deal: its customer, currency, frequency, start
(today, or a later day: then it is scheduled), term, collection, trial and coupon, and recurring items from the
product library. One-time items are refused: they belong on an invoice.

A trial moves the first billing to the day the trial ends: that day is the billing anchor, and nothing is billed
before it. Charging automatically needs a saved payment method (billing cannot see the payments app's methods,
so the caller passes its public id); without one the subscription sends invoices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from babel.numbers import is_currency
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import events, pricing
from billing.models import CollectionMethod, Coupon, LineItem, Subscription, SubscriptionStatus
from billing.models.choices import Frequency
from billing.services.subscription_changes import (
    MAX_LINES,
    LineAdd,
    coupon_check,
    coupon_periods,
    lines_from_products,
    subscription_mrr_refresh,
    subscription_record,
)
from crm.models import Company, Contact, Deal

MAX_TRIAL_DAYS = 730
MAX_TERM_PERIODS = 1000
MAX_TERMS_DAYS = 365
MAX_START_AHEAD_DAYS = 3 * 366


@dataclass
class ManualSubscription:
    name: str
    currency: str
    frequency: str
    start_date: date
    items: Sequence[LineAdd]
    company: Company | None = None
    contact: Contact | None = None
    deal: Deal | None = None
    term_periods: int | None = None
    collection_method: str = CollectionMethod.SEND_INVOICE
    payment_method_ref: str = ""
    payment_terms_days: int = 14
    trial_days: int = 0
    coupon: Coupon | None = None


def _errors(values: ManualSubscription, today: date) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if values.company is None and values.contact is None:
        add("company", _("Choose the customer: a company, a contact, or both."))
    if not values.name.strip():
        add("name", _("Give the subscription a name."))
    if not values.currency or not is_currency(values.currency, locale="en"):
        add("currency", _("Choose a currency."))
    if values.frequency not in Frequency.values or values.frequency == Frequency.ONE_TIME:
        add("frequency", _("Choose how often it bills."))
    if values.start_date < today:
        add("start_date", _("Start today or later: a start in the past would bill periods nobody agreed to."))
    elif values.start_date > today + timedelta(days=MAX_START_AHEAD_DAYS):
        add("start_date", _("Start within three years."))
    if values.term_periods is not None and not 1 <= values.term_periods <= MAX_TERM_PERIODS:
        add("term_periods", _("Enter between 1 and 1000 periods, or leave it empty to renew until canceled."))
    if values.collection_method not in CollectionMethod.values:
        add("collection_method", _("Choose how it is collected."))
    elif values.collection_method == CollectionMethod.CHARGE_AUTOMATICALLY and not values.payment_method_ref:
        add(
            "collection_method",
            _("Charging automatically needs a saved payment method; send invoices until the customer saves one."),
        )
    if not 0 <= values.payment_terms_days <= MAX_TERMS_DAYS:
        add("payment_terms_days", _("Enter between 0 and 365 days."))
    if not 0 <= values.trial_days <= MAX_TRIAL_DAYS:
        add("trial_days", _("Enter between 0 and 730 days."))
    if (
        values.deal is not None
        and values.company is not None
        and values.deal.company_id not in (None, values.company.pk)
    ):
        add("deal", _("This deal belongs to another company."))
    if not values.items:
        add("items", _("Add at least one recurring item."))
    elif len(values.items) > MAX_LINES:
        add("items", _("A subscription holds at most 50 items."))
    try:
        coupon_check(values.coupon, currency=values.currency)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    return errors


@transaction.atomic
def subscription_create_manual(*, values: ManualSubscription, actor, today: date | None = None) -> Subscription:
    today = today or timezone.localdate()
    errors = _errors(values, today)
    lines: list[LineItem] = []
    if "currency" not in errors and "frequency" not in errors and values.items:
        item_errors: dict[str, list[str]] = {}
        lines = lines_from_products(
            values.items, currency=values.currency, frequency=values.frequency, errors=item_errors
        )
        for messages in item_errors.values():
            errors.setdefault("items", []).extend(messages)
        if not item_errors:
            try:
                from billing import editor

                editor.summary(lines, [], currency=values.currency)
            except pricing.PricingError as exc:
                errors.setdefault("items", []).extend(message for _f, message in exc.errors)
    if errors:
        raise ValidationError(errors)
    trial_end = values.start_date + timedelta(days=values.trial_days) if values.trial_days else None
    anchor = trial_end or values.start_date
    status = SubscriptionStatus.SCHEDULED if values.start_date > today else SubscriptionStatus.ACTIVE
    subscription = Subscription.objects.create(
        status=status,
        name=values.name.strip()[:200],
        currency=values.currency,
        frequency=values.frequency,
        company=values.company,
        contact=values.contact,
        deal=values.deal,
        start_date=values.start_date,
        billing_anchor=anchor,
        anchor_day=anchor.day,
        next_period_index=0,
        periods_billed=0,
        next_billing_date=anchor,
        term_periods=values.term_periods,
        collection_method=values.collection_method,
        payment_method_ref=values.payment_method_ref[:64],
        payment_terms_days=values.payment_terms_days,
        trial_end=trial_end,
        coupon=values.coupon,
        coupon_periods_left=coupon_periods(values.coupon) if values.coupon else None,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    for position, line in enumerate(lines):
        line.subscription = subscription
        line.position = position
    LineItem.objects.bulk_create(lines)
    subscription_record(
        subscription,
        kind="created",
        actor=actor,
        event=events.SUBSCRIPTION_CREATED,
        to_status=status,
        frequency=values.frequency,
        start_date=values.start_date.isoformat(),
        deal_id=values.deal.pk if values.deal else None,
    )
    subscription_mrr_refresh(subscription)
    return subscription
