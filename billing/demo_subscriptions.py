"""Demo subscriptions in EUR and NOK, made through the same services staff use and billed by the real billing run:
an active monthly and an active annual one with paid invoices, one in its trial, one paused, one canceling at the
end of its period, one past due after a declined charge, and one that ended with its term. The run bills every
period since each one started, so the record pages have past invoices, payments and a timeline."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from billing.models import Invoice, InvoiceStatus, Product, Subscription
from billing.services.invoice_payments import invoice_record_payment
from billing.services.subscription_billing import subscriptions_bill_due
from billing.services.subscription_changes import (
    LineAdd,
    subscription_cancel_at_period_end,
    subscription_pause,
)
from billing.services.subscriptions_manual import ManualSubscription, subscription_create_manual
from commerce_hub.accounts.models import User
from crm.models import Company

D = Decimal

# name, country, currency, frequency, product sku, quantity, days since the start, trial days, term (periods), state
PLANS = [
    ("Professional, 8 users", "NL", "EUR", "monthly", "HUB-PRO", "8", 95, 0, None, "active"),
    ("Enterprise, 5 users", "NO", "NOK", "annual", "HUB-ENT", "5", 200, 0, None, "active"),
    ("Professional trial, 3 users", "NL", "EUR", "monthly", "HUB-PRO", "3", 0, 14, None, "trialing"),
    ("Professional, 4 brukere", "NO", "NOK", "monthly", "HUB-PRO", "4", 70, 0, None, "paused"),
    ("Priority support", "NL", "EUR", "quarterly", "SUP-PRI", "1", 40, 0, None, "canceling"),
    ("Professional, 12 users", "NL", "EUR", "monthly", "HUB-PRO", "12", 50, 0, None, "past_due"),
    ("Professional pilot, 2 users", "NO", "NOK", "monthly", "HUB-PRO", "2", 130, 0, 3, "ended"),
]


def _pay(subscription: Subscription, *, admin, leave_open: int = 0) -> None:
    """Bank transfers for every invoice but the newest `leave_open`."""
    invoices = list(
        Invoice.objects.filter(subscription=subscription, status=InvoiceStatus.OPEN).order_by("issue_date", "id")
    )
    for invoice in invoices[: len(invoices) - leave_open]:
        invoice_record_payment(
            invoice=invoice,
            amount=invoice.total,
            paid_on=invoice.issue_date + timedelta(days=6),
            method="bank_transfer",
            reference=invoice.number,
            actor=admin,
        )


def seed(ctx) -> None:
    # Made once: the subscriptions staff started by hand (quotes and payment links seed their own before this).
    if ctx.scale or Subscription.objects.filter(source_quote__isnull=True, source_purchase__isnull=True).exists():
        return
    products = {p.sku: p for p in Product.objects.filter(sku__in={plan[4] for plan in PLANS})}
    admin = User.objects.filter(role="admin").order_by("pk").first()
    if admin is None or len(products) < 2:
        return
    today = timezone.localdate()
    used: dict[str, int] = {}
    made: list[tuple[Subscription, str]] = []
    for name, country, currency, frequency, sku, quantity, days_ago, trial, term, state in PLANS:
        companies = list(Company.objects.filter(country=country).order_by("pk")[:8])
        product = products.get(sku)
        if not companies or product is None:
            continue
        company = companies[used.get(country, 0) % len(companies)]
        used[country] = used.get(country, 0) + 1
        start = today - timedelta(days=days_ago)
        contact = company.contacts.order_by("pk").first()
        subscription = subscription_create_manual(
            values=ManualSubscription(
                name=name,
                currency=currency,
                frequency=frequency,
                start_date=start,
                items=[LineAdd(product_id=product.pk, quantity=D(quantity))],
                company=company,
                contact=contact,
                deal=company.deals.order_by("pk").first(),
                term_periods=term,
                trial_days=trial,
                payment_terms_days=14,
            ),
            actor=admin,
            today=start,  # the day it was set up
        )
        made.append((subscription, state))
    # The real billing run bills every period since each start, exactly as the hourly job would have.
    subscriptions_bill_due(now=timezone.now(), subscription_ids=[s.pk for s, _state in made])
    for subscription, state in made:
        subscription.refresh_from_db()
        if state == "past_due":
            _pay(subscription, admin=admin, leave_open=1)
            newest = (
                Invoice.objects.filter(subscription=subscription, status=InvoiceStatus.OPEN).order_by("-id").first()
            )
            if newest is not None:
                from billing.services.subscription_dunning import dunning_charge_failed

                dunning_charge_failed(
                    invoice_id=newest.pk, attempt=1, code="card_declined", message="The card was declined."
                )
            continue
        _pay(
            subscription, admin=admin, leave_open=1 if state == "active" and subscription.frequency == "monthly" else 0
        )
        if state == "paused":
            subscription_pause(
                subscription=subscription, actor=admin, resume_on=today + timedelta(days=30), today=today
            )
        elif state == "canceling":
            subscription_cancel_at_period_end(subscription=subscription, actor=admin, reason="Moving support in-house")
