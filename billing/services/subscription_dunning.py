"""Dunning: collecting a subscription invoice whose automatic charge failed (Stripe's and Chargebee's smart retries).

One InvoiceDunning row per invoice. The collector (payments, through billing.subscription_collection) charges
attempt n of an invoice with the key f"subscription-invoice-{invoice}-try-{n}", n = failures + 1, so a run started
again never charges twice; billing never imports payments and learns outcomes through these services:

    dunning_charge_failed   attempt n failed (declined, or the saved method is gone): failures = n, the next retry
                            from the tenant's schedule counted from the FIRST failure, in the tenant's timezone; the
                            subscription becomes past due; the buyer gets an email with the amount, the reason and
                            the link to the page where they update their payment method. Once per attempt: a second
                            report of the same attempt changes nothing. After the last retry: the subscription is
                            canceled (reason "unpaid") or stays past due, as the admin chose; the invoice stays open
                            either way (Stripe's default: the money is still owed for the period the buyer had, and
                            finance decides whether to void it or write it off).
    dunning_recover         the invoice was paid, however (a retry, the buyer on the hosted invoice page, a payment
                            recorded by hand, credit): the case is recovered and the subscription active again when no
                            other case is open. Runs from billing's invoice.paid event, so every way of paying stops it.
    dunning_stop            the invoice was voided or written off: nothing is owed, so retrying stops.
    dunning_claim_due       the retry job's claim: due cases, under FOR UPDATE SKIP LOCKED, leased for an hour, so
                            two jobs at once never retry one invoice twice; a case whose invoice is no longer open is
                            closed instead of retried (no retry ever runs for an invoice that is paid, void or
                            uncollectible).

A retry that finds the invoice paid is stopped twice over: here (the claim reads the invoice's state under the lock)
and in payments (payment_charge_saved recomputes what is due under the invoice's row lock and refuses zero).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import events
from billing.models import (
    AfterFinalRetry,
    DunningStatus,
    Invoice,
    InvoiceDunning,
    InvoiceStatus,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
)
from billing.selectors.receivables import invoice_figures
from billing.selectors.subscription_settings import subscription_settings_get
from billing.services.invoices import invoice_recipients
from commerce_hub.events.services import event_emit
from commerce_hub.mail import email_queue
from commerce_hub.organization.selectors import organization_profile_get

# How long a claimed retry is held before another job may take it again: longer than a charge takes; a charge
# still processing after it (a bank debit) is found by its attempt key and not made again.
RETRY_LEASE = timedelta(hours=1)
# Cases still owing: a subscription stays past due while it has one.
OPEN_CASES = (DunningStatus.ACTIVE, DunningStatus.EXHAUSTED)

# Why a charge failed, in the buyer's words, by the processor's code (Stripe's decline codes; the built-in
# processor uses the same ones).
REASONS = {
    "insufficient_funds": gettext_lazy("There was not enough money on the card or account."),
    "card_declined": gettext_lazy("Your bank declined the charge."),
    "generic_decline": gettext_lazy("Your bank declined the charge."),
    "expired_card": gettext_lazy("The card has expired."),
    "authentication_required": gettext_lazy(
        "Your bank wants you to confirm the payment yourself, which an automatic charge cannot do."
    ),
    "payment_method_missing": gettext_lazy("The saved payment method is no longer available."),
    "resource_missing": gettext_lazy("The saved payment method is no longer available."),
    "debit_failed": gettext_lazy("Your bank refused the direct debit."),
}

# fn(subscription) -> absolute URL of the buyer's page where they update the payment method (payments registers it;
# billing never imports payments).
_method_url: Callable[[Subscription], str] | None = None


# fn(*, invoice_ids) -> None: charge these invoices' next attempt (payments registers it: the collector's retry mode).
# The billing run's collector charges an invoice's first attempt only; an invoice in dunning is charged again by the
# retry job alone, on its schedule, so a billing run started again never retries early.
_retry_charger: Callable[..., None] | None = None


def dunning_retry_charger_register(fn: Callable[..., None] | None) -> None:
    global _retry_charger
    _retry_charger = fn


def dunning_method_url_register(fn: Callable[[Subscription], str] | None) -> None:
    global _method_url
    _method_url = fn


def subscription_method_url(subscription: Subscription) -> str:
    if _method_url is None or not subscription.public_token:
        return ""
    return _method_url(subscription)


def reason_text(code: str, message: str = "") -> str:
    """The failure in plain words, in the active language."""
    if code in REASONS:
        return str(REASONS[code])
    return message or _("The charge did not go through.")


# --- the schedule -----------------------------------------------------------------------------------------------------


def retry_at(*, first_failure: datetime, days: int) -> datetime:
    """`days` calendar days after the first failure at the same wall-clock time in the tenant's timezone (so a
    retry across a DST change still runs at the hour the first charge failed)."""
    zone = ZoneInfo(organization_profile_get().timezone)
    local = first_failure.astimezone(zone)
    # Aware arithmetic with a ZoneInfo keeps the wall-clock time; the offset is the target day's.
    return (local + timedelta(days=days)).astimezone(zone)


def _schedule(failures: int, retry_days: list[int]) -> int | None:
    """Days after the first failure of the retry following `failures` failures; None when that was the last one."""
    index = failures - 1
    return int(retry_days[index]) if 0 <= index < len(retry_days) else None


# --- the subscription's side ------------------------------------------------------------------------------------------


def subscription_public_token_ensure(subscription: Subscription) -> str:
    """The buyer's page token (256 random bits), made once: a conditional update, so two writers keep one."""
    if not subscription.public_token:
        Subscription.objects.filter(pk=subscription.pk, public_token__isnull=True).update(
            public_token=secrets.token_urlsafe(32)
        )
        subscription.public_token = Subscription.objects.values_list("public_token", flat=True).get(pk=subscription.pk)
    return subscription.public_token


def _timeline(subscription: Subscription, *, kind: str, at, from_status: str = "", to_status: str = "", **data):
    SubscriptionEvent.objects.create(
        subscription=subscription, kind=kind, from_status=from_status, to_status=to_status, at=at, data=data
    )


def _to_past_due(subscription: Subscription, *, invoice: Invoice, now) -> bool:
    moved = Subscription.objects.filter(pk=subscription.pk, status=SubscriptionStatus.ACTIVE).update(
        status=SubscriptionStatus.PAST_DUE, past_due_since=now, updated_at=now
    )
    if moved:
        subscription.status = SubscriptionStatus.PAST_DUE
        subscription.past_due_since = now
        _timeline(
            subscription,
            kind="past_due",
            at=now,
            from_status=SubscriptionStatus.ACTIVE,
            to_status=SubscriptionStatus.PAST_DUE,
            invoice=invoice.pk,
        )
        event_emit(
            name=events.SUBSCRIPTION_PAST_DUE,
            payload={"id": subscription.pk, "invoice_id": invoice.pk, "since": now.isoformat()},
        )
    return bool(moved)


def _back_to_active(subscription: Subscription, *, invoice: Invoice, now, kind: str) -> bool:
    """Past due -> active once no case of the subscription still owes anything."""
    still_open = (
        InvoiceDunning.objects.filter(subscription=subscription, status__in=OPEN_CASES)
        .exclude(invoice=invoice)
        .exists()
    )
    if still_open:
        return False
    moved = Subscription.objects.filter(pk=subscription.pk, status=SubscriptionStatus.PAST_DUE).update(
        status=SubscriptionStatus.ACTIVE, past_due_since=None, updated_at=now
    )
    if moved:
        _timeline(
            subscription,
            kind=kind,
            at=now,
            from_status=SubscriptionStatus.PAST_DUE,
            to_status=SubscriptionStatus.ACTIVE,
            invoice=invoice.pk,
        )
        event_emit(name=events.SUBSCRIPTION_RECOVERED, payload={"id": subscription.pk, "invoice_id": invoice.pk})
    return bool(moved)


def _cancel_unpaid(subscription: Subscription, *, invoice: Invoice, now) -> bool:
    before = Subscription.objects.values_list("status", flat=True).get(pk=subscription.pk)
    moved = Subscription.objects.filter(
        pk=subscription.pk, status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE]
    ).update(
        status=SubscriptionStatus.CANCELED,
        cancel_reason="unpaid",
        canceled_at=now,
        ended_at=now,
        cancel_at_period_end=False,
        updated_at=now,
    )
    if moved:
        subscription.status = SubscriptionStatus.CANCELED
        _timeline(
            subscription,
            kind="canceled",
            at=now,
            from_status=before,
            to_status=SubscriptionStatus.CANCELED,
            reason="unpaid",
            invoice=invoice.pk,
        )
        event_emit(
            name=events.SUBSCRIPTION_CANCELED,
            payload={"id": subscription.pk, "reason": "unpaid", "invoice_id": invoice.pk},
        )
    return bool(moved)


# --- emails -----------------------------------------------------------------------------------------------------------


def _buyer_emails(invoice: Invoice, subscription: Subscription) -> list[str]:
    recipients = invoice_recipients(invoice)
    if not recipients and subscription.contact_id and subscription.contact.email:
        recipients = [subscription.contact.email]
    return recipients


def _email(name: str, *, invoice: Invoice, subscription: Subscription, dunning: InvoiceDunning, code: str, **extra):
    due = invoice_figures(invoice).due
    language = invoice.language
    zone = ZoneInfo(organization_profile_get().timezone)
    with translation.override(language):
        reason = reason_text(code, dunning.last_error)
    snapshot = invoice.snapshot or {}
    context = {
        "invoice": invoice,
        "subscription": subscription,
        "amount": due,
        "currency": invoice.currency,
        "reason": reason,
        "method_url": subscription_method_url(subscription),
        "next_retry": dunning.next_retry_at.astimezone(zone) if dunning.next_retry_at else None,
        "seller_name": snapshot.get("seller", {}).get("legal_name") or organization_profile_get().legal_name,
        "buyer_name": snapshot.get("buyer", {}).get("name", ""),
        **extra,
    }
    from billing.documents import invoice_settings_get

    reply_to = invoice_settings_get().email
    for address in _buyer_emails(invoice, subscription):
        email_queue(to=address, name=name, context=context, language=language, reply_to=reply_to)


# --- outcomes ---------------------------------------------------------------------------------------------------------


def dunning_charge_failed(
    *, invoice_id: int, attempt: int, code: str = "", message: str = "", now: datetime | None = None
) -> InvoiceDunning | None:
    """Attempt `attempt` (1 is the billing run's charge) of a subscription invoice failed. Idempotent per attempt.
    Returns the case, or None when the invoice is no subscription's or no longer owes anything."""
    now = now or timezone.now()
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().filter(pk=invoice_id).first()
        if invoice is None or invoice.subscription_id is None or invoice.status != InvoiceStatus.OPEN:
            return None
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("contact")
            .get(pk=invoice.subscription_id)
        )
        dunning = InvoiceDunning.objects.select_for_update().filter(invoice=invoice).first()
        if dunning is None:
            dunning = InvoiceDunning.objects.create(
                invoice=invoice, subscription=subscription, created_at=now, updated_at=now
            )
        if dunning.status != DunningStatus.ACTIVE or attempt <= dunning.failures:
            return dunning  # reported before, or the case closed meanwhile
        settings = subscription_settings_get()
        dunning.failures = attempt
        dunning.last_error = (message or code or "")[:300]
        dunning.updated_at = now
        days = _schedule(dunning.failures, list(settings.retry_days or []))
        final = days is None
        dunning.next_retry_at = None if final else retry_at(first_failure=dunning.created_at, days=days)
        if final:
            dunning.status = DunningStatus.EXHAUSTED
        dunning.save(update_fields=["failures", "last_error", "updated_at", "next_retry_at", "status"])
        subscription_public_token_ensure(subscription)
        _timeline(
            subscription,
            kind="charge_failed",
            at=now,
            invoice=invoice.pk,
            attempt=attempt,
            code=code[:40],
            message=dunning.last_error,
            next_retry_at=dunning.next_retry_at.isoformat() if dunning.next_retry_at else "",
        )
        _to_past_due(subscription, invoice=invoice, now=now)
        if not final:
            _email(
                "subscription-payment-failed", invoice=invoice, subscription=subscription, dunning=dunning, code=code
            )
        elif settings.after_final_retry == AfterFinalRetry.CANCEL:
            _cancel_unpaid(subscription, invoice=invoice, now=now)
            _email(
                "subscription-canceled-unpaid", invoice=invoice, subscription=subscription, dunning=dunning, code=code
            )
        else:
            _timeline(subscription, kind="retries_exhausted", at=now, invoice=invoice.pk)
            _email(
                "subscription-payment-failed",
                invoice=invoice,
                subscription=subscription,
                dunning=dunning,
                code=code,
                final=True,
            )
    return dunning


def _close(dunning: InvoiceDunning, *, status: str, now, kind: str) -> InvoiceDunning:
    dunning.status = status
    dunning.next_retry_at = None
    dunning.updated_at = now
    dunning.save(update_fields=["status", "next_retry_at", "updated_at"])
    subscription = Subscription.objects.get(pk=dunning.subscription_id)
    _timeline(subscription, kind=kind, at=now, invoice=dunning.invoice_id, failures=dunning.failures)
    _back_to_active(subscription, invoice=dunning.invoice, now=now, kind="reactivated")
    return dunning


def dunning_recover(*, invoice_id: int, now: datetime | None = None) -> InvoiceDunning | None:
    """The invoice was paid, however: its case is recovered (once). Returns the case when it changed now."""
    now = now or timezone.now()
    with transaction.atomic():
        dunning = (
            InvoiceDunning.objects.select_for_update(of=("self",))
            .select_related("invoice")
            .filter(invoice_id=invoice_id, status__in=OPEN_CASES)
            .first()
        )
        if dunning is None or dunning.invoice.status != InvoiceStatus.PAID:
            return None
        return _close(dunning, status=DunningStatus.RECOVERED, now=now, kind="recovered")


def dunning_stop(*, invoice_id: int, now: datetime | None = None) -> InvoiceDunning | None:
    """The invoice was voided or written off: nothing is owed any more, so nothing is retried."""
    now = now or timezone.now()
    with transaction.atomic():
        dunning = (
            InvoiceDunning.objects.select_for_update(of=("self",))
            .select_related("invoice")
            .filter(invoice_id=invoice_id, status__in=OPEN_CASES)
            .first()
        )
        if dunning is None or dunning.invoice.status not in (InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE):
            return None
        return _close(dunning, status=DunningStatus.STOPPED, now=now, kind="dunning_stopped")


def dunning_sync(*, invoice_id: int) -> InvoiceDunning | None:
    """Close a case whose invoice no longer owes anything (paid, void, written off); the collector calls it when a
    charge is refused because nothing is left to pay."""
    return dunning_recover(invoice_id=invoice_id) or dunning_stop(invoice_id=invoice_id)


def dunning_claim_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Claim the cases due for a retry and return their invoices' ids, in due order. One transaction: the due rows
    are locked with SKIP LOCKED (a job running at the same time takes others, or none) and leased for RETRY_LEASE in
    one UPDATE, so a second job never takes them until the charge had time to report. A case whose invoice is no
    longer open is closed here instead of retried."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            InvoiceDunning.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=DunningStatus.ACTIVE, next_retry_at__lte=now)
            .order_by("next_retry_at", "id")
            .values_list("pk", "invoice_id", "invoice__status")[:limit]
        )
        due = [(pk, invoice_id) for pk, invoice_id, status in rows if status == InvoiceStatus.OPEN]
        InvoiceDunning.objects.filter(pk__in=[pk for pk, _invoice in due]).update(
            next_retry_at=now + RETRY_LEASE, updated_at=now
        )
        closed = [invoice_id for _pk, invoice_id, status in rows if status != InvoiceStatus.OPEN]
    for invoice_id in closed:
        dunning_sync(invoice_id=invoice_id)
    return [invoice_id for _pk, invoice_id in due]


def dunning_retries_run(*, now: datetime | None = None) -> int:
    """The retry job: claim what is due, then hand it to the retry charger (after the claim committed; it charges
    outside any transaction of ours). Returns how many invoices were handed over."""
    if _retry_charger is None:
        return 0
    invoice_ids = dunning_claim_due(now=now)
    if invoice_ids:
        _retry_charger(invoice_ids=invoice_ids)
    return len(invoice_ids)


def dunning_attempt_next(invoice: Invoice) -> int:
    """The number of the next charge attempt of a subscription invoice: 1, or one more than the failures so far."""
    failures = InvoiceDunning.objects.filter(invoice=invoice).values_list("failures", flat=True).first()
    return (failures or 0) + 1


# --- the buyer's new payment method -----------------------------------------------------------------------------------


@transaction.atomic
def subscription_payment_method_set(*, subscription: Subscription, method_ref: str, actor=None) -> Subscription:
    """The subscription is charged with another saved method from now on (the buyer chose it on their page)."""
    now = timezone.now()
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    previous = subscription.payment_method_ref
    Subscription.objects.filter(pk=subscription.pk).update(
        payment_method_ref=method_ref[:64],
        collection_method="charge_automatically",
        updated_at=now,
    )
    subscription.refresh_from_db()
    SubscriptionEvent.objects.create(
        subscription=subscription,
        kind="payment_method_updated",
        actor=actor if getattr(actor, "pk", None) else None,
        at=now,
        data={"changed": previous != method_ref},
    )
    return subscription


def subscription_open_invoices(subscription: Subscription) -> list[Invoice]:
    """The subscription's invoices still being collected (an open dunning case), oldest first."""
    return list(
        Invoice.objects.filter(
            subscription=subscription, status=InvoiceStatus.OPEN, dunning__status__in=OPEN_CASES
        ).order_by("issue_date", "id")
    )
