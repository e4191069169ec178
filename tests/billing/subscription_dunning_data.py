"""Test data for dunning: a monthly subscription that charges a saved method automatically, and its finalized
invoice for one period (EUR 242.00: 2 x 100.00 + 21% VAT), for Fjordline AS (contact Kari Nordmann)."""

from __future__ import annotations

from datetime import date

from billing.models import CollectionMethod, Invoice, Subscription, SubscriptionSettings, SubscriptionStatus
from billing.services.invoices import invoice_finalize
from commerce_hub.events.models import OutgoingEmail
from tests.billing.invoicing import buyer_make, draft_make, seller_ready


def subscription_make(*, method_ref: str = "bi_pm_test", language: str = "en", email: str = "kari@fjordline.example"):
    seller_ready()
    company, contact = buyer_make(email=email, language=language)
    start = date(2026, 11, 1)
    return Subscription.objects.create(
        status=SubscriptionStatus.ACTIVE,
        name="Hosting (monthly)",
        currency="EUR",
        frequency="monthly",
        company=company,
        contact=contact,
        start_date=start,
        billing_anchor=start,
        anchor_day=1,
        next_period_index=2,
        periods_billed=2,
        current_period_start=date(2026, 12, 1),
        current_period_end=date(2026, 12, 31),
        next_billing_date=date(2027, 1, 1),
        collection_method=CollectionMethod.CHARGE_AUTOMATICALLY,
        payment_method_ref=method_ref,
    )


def subscription_invoice_make(subscription: Subscription, *, period_start: date = date(2026, 12, 1), language="en"):
    """The subscription's finalized, open invoice for the period starting on `period_start`."""
    draft = draft_make(company=subscription.company, contacts=[subscription.contact], language=language)
    Invoice.objects.filter(pk=draft.pk).update(
        subscription=subscription, period_start=period_start, period_end=date(2026, 12, 31)
    )
    draft.refresh_from_db()
    return invoice_finalize(invoice=draft, actor=None)


def settings_set(*, retry_days=(1, 3, 5, 7), after_final_retry="cancel") -> SubscriptionSettings:
    settings, _created = SubscriptionSettings.objects.update_or_create(
        pk=1, defaults={"retry_days": list(retry_days), "after_final_retry": after_final_retry}
    )
    return settings


def emails_to(address: str) -> list[OutgoingEmail]:
    return list(OutgoingEmail.objects.filter(to=address).order_by("pk"))
