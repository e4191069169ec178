"""Test data for the billing run: subscriptions with their own lines, for a buyer with an email address."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from billing.models import Coupon, LineItem, Subscription, SubscriptionStatus
from commerce_hub.organization.models import OrganizationProfile
from commerce_hub.organization.selectors import organization_profile_forget
from crm.models import Company
from tests.billing.invoicing import buyer_make, rate, seller_ready


def tenant_timezone_set(name: str) -> None:
    OrganizationProfile.objects.filter(pk=1).update(timezone=name)
    organization_profile_forget()


def subscription_make(
    *,
    start: date,
    frequency: str = "monthly",
    lines=(("Hosting", "1", "100.00", "BTW 21%", None),),
    currency: str = "EUR",
    status: str | None = None,
    trial_end: date | None = None,
    term_periods: int | None = None,
    coupon: Coupon | None = None,
    coupon_periods_left: int | None = None,
    company=None,
    contact=None,
    **fields,
) -> Subscription:
    """A subscription starting (first billed) on `start`, or on `trial_end` after a trial. Lines are (name,
    quantity, unit price, tax rate name or None, term in months/weeks or None)."""
    seller_ready()
    if company is None and contact is None:
        company, contact = buyer_make(email=f"buyer-{Company.objects.count()}@example.com")
    anchor = trial_end or start
    subscription = Subscription.objects.create(
        status=status or SubscriptionStatus.ACTIVE,
        name=f"Plan ({frequency})",
        currency=currency,
        frequency=frequency,
        company=company,
        contact=contact,
        start_date=start,
        billing_anchor=anchor,
        anchor_day=anchor.day,
        next_billing_date=anchor,
        term_periods=term_periods,
        trial_end=trial_end,
        coupon=coupon,
        coupon_periods_left=coupon_periods_left,
        **fields,
    )
    weekly = frequency in ("weekly", "biweekly")
    LineItem.objects.bulk_create(
        [
            LineItem(
                subscription=subscription,
                position=position,
                name=name,
                quantity=Decimal(quantity),
                unit_price=Decimal(price),
                currency=currency,
                tax_rate=rate(tax) if tax else None,
                frequency=frequency,
                term_weeks=term if weekly else None,
                term_months=None if weekly else term,
            )
            for position, (name, quantity, price, tax, term) in enumerate(lines)
        ]
    )
    return subscription


def coupon_make(*, percent=None, amount=None, currency="", duration="repeating", periods=None, name="Welcome"):
    return Coupon.objects.create(
        name=name,
        percent_off=Decimal(percent) if percent is not None else None,
        amount_off=Decimal(amount) if amount is not None else None,
        currency=currency,
        duration=duration,
        duration_periods=periods,
    )
