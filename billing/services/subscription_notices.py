"""Emails about a subscription from the billing run: the trial is ending. Stored in the caller's transaction and
sent after it commits (commerce_hub.mail), in the buyer's language."""

from __future__ import annotations

from billing import pricing
from billing.documents import invoice_settings_get, seller_snapshot
from billing.models import CollectionMethod, Subscription
from billing.subscription_invoices import subscription_invoice_preview, subscription_language
from commerce_hub.mail import email_queue


def trial_ending_email_queue(*, subscription: Subscription):
    """Tell the buyer contact the trial ends on trial_end and what the first invoice will be. None when the
    subscription has no contact with an email address (the caller still marks the notice as done: once only)."""
    contact = subscription.contact
    if contact is None or not contact.email:
        return None
    try:
        preview = subscription_invoice_preview(subscription=subscription)
    except pricing.PricingError:
        preview = None
    return email_queue(
        to=contact.email,
        name="subscription-trial-ending",
        language=subscription_language(subscription),
        context={
            "subscription": subscription,
            "buyer_name": contact.full_name,
            "seller_name": seller_snapshot()["legal_name"],
            "trial_end": subscription.trial_end,
            "amount": preview.total if preview else None,
            "currency": subscription.currency,
            "charged": subscription.collection_method == CollectionMethod.CHARGE_AUTOMATICALLY
            and bool(subscription.payment_method_ref),
        },
        reply_to=invoice_settings_get().email,
    )
