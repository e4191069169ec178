"""Simulated time for a subscription (Stripe's test clocks): an admin in test mode moves a subscription's clock
forward and watches it live through trial notices, periods, renewals and its end, without waiting.

Only in test mode: the tenant takes payments with the built-in test processor. That is the payments app's to say,
and billing never imports it, so payments registers the check (subscription_test_mode_register); with nothing
registered, the clock cannot be moved.

A subscription with a clock lives on it: the hourly run leaves it alone (test_clock is set) and it is billed only
when its clock moves. The clock never goes backward.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import events
from billing.models import Subscription, SubscriptionEvent, SubscriptionSettings, SubscriptionStatus
from billing.services.subscription_billing import BillingRunResult, subscriptions_bill_due, tenant_zone
from commerce_hub.events.services import event_emit

# fn() -> bool: the current tenant is in test mode (payments: the built-in test processor is its processor).
_test_mode: Callable[[], bool] | None = None
# Steps per move: ten years of weekly periods, with room for trial notices and the end.
MAX_STEPS = 600
# The furthest one move goes: what MAX_STEPS covers, and far from the end of the calendar.
MAX_MOVE = timedelta(days=3653)


def subscription_test_mode_register(fn: Callable[[], bool] | None) -> None:
    global _test_mode
    _test_mode = fn


def subscription_test_mode() -> bool:
    return _test_mode is not None and bool(_test_mode())


@transaction.atomic
def subscription_clock_advance(*, subscription: Subscription, to: datetime, actor) -> BillingRunResult:
    """Move the subscription's clock forward to `to` and run billing for it at every due moment on the way:
    trial notices, every period, the end of its term. Records a clock_advanced event on its timeline."""
    if not subscription_test_mode():
        raise ValidationError(_("Time can only be simulated in test mode."))
    sub = Subscription.objects.select_for_update().filter(pk=subscription.pk).first()
    if sub is None:
        raise ValidationError(_("This subscription no longer exists."))
    if timezone.is_naive(to):
        to = timezone.make_aware(to, tenant_zone())
    start = sub.test_clock or timezone.now()
    if to <= start:
        raise ValidationError({"to": [_("Time only moves forward: choose a moment after %(now)s.") % {"now": start}]})
    if to - start > MAX_MOVE:
        raise ValidationError({"to": [_("Move the clock at most ten years at a time.")]})
    Subscription.objects.filter(pk=sub.pk).update(test_clock=to)
    total = BillingRunResult()
    reminder_days = SubscriptionSettings.objects.filter(pk=1).values_list("trial_reminder_days", flat=True).first()
    for moment in _steps(sub, start, to, reminder_days if reminder_days is not None else 3):
        result = subscriptions_bill_due(now=moment, subscription_ids=[sub.pk])
        total.invoice_ids += result.invoice_ids
        total.trial_notices += result.trial_notices
        total.activated += result.activated
        total.ended += result.ended
        total.canceled += result.canceled
        total.resumed += result.resumed
        total.batches += result.batches
        total.failed += result.failed
    real_actor = actor if getattr(actor, "is_authenticated", False) else None
    SubscriptionEvent.objects.create(
        subscription=sub,
        kind="clock_advanced",
        actor=real_actor,
        data={"from": start.isoformat(), "to": to.isoformat(), "invoices": len(total.invoice_ids)},
    )
    event_emit(
        name=events.SUBSCRIPTION_CLOCK_ADVANCED,
        payload={"id": sub.pk, "to": to.isoformat(), "actor": real_actor.pk if real_actor else None},
    )
    return total


def _steps(sub: Subscription, start: datetime, to: datetime, reminder_days: int):
    """The moments to run billing at, oldest first: after each run the subscription is re-read, and the next
    moment is the first of its next billing date, trial notice day or resume date at 00:30 local, up to `to`.
    Running at each moment (not once at `to`) makes every step happen on its own simulated day: a trial notice
    before the trial's end, each invoice dated and created on its own day."""
    zone = tenant_zone()
    moment = start
    for _step in range(MAX_STEPS):
        yield moment
        sub.refresh_from_db()
        if sub.status in (SubscriptionStatus.CANCELED, SubscriptionStatus.ENDED):
            return
        today = moment.astimezone(zone).date()
        candidates = [sub.next_billing_date]
        if sub.status == SubscriptionStatus.SCHEDULED:
            candidates.append(sub.start_date)
        if sub.status == SubscriptionStatus.PAUSED:
            candidates = [sub.resume_on] if sub.resume_on else []
        if sub.trial_end and sub.trial_notice_sent_at is None and sub.periods_billed == 0:
            candidates.append(sub.trial_end - timedelta(days=reminder_days))
        days = [day for day in candidates if day and day > today]
        if not days:
            break
        moment = datetime.combine(min(days), time(0, 30), tzinfo=zone)
        if moment >= to:
            break
    yield to
