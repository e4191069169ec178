"""Payouts: money sent from the processor balance to the tenant's bank account.

Built-in processor: computed here from the ledger. On a payout day (PaymentSettings: daily, weekly on a weekday,
monthly on a day of the month, or manual) every entry available by that day and not paid out yet is paid out, per
currency, when the sum is positive; a negative sum (refunds and chargebacks above what came in) stays on the
balance and lowers the next payout. The entries a payout includes are listed in PayoutItem, and the payout's own
entry (kind payout, -amount) goes on the ledger, so the balance drops to what is still pending.

Stripe: Stripe computes and sends its payouts; its payout events create and update a read-only Payout here.

The payouts job (beat, hourly, per tenant) moves built-in payouts along (pending -> in transit -> paid on the
arrival date), runs the payout of the day, and emails admins each new payout once.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from commerce_hub.accounts.selectors import users_with_permission
from commerce_hub.events.services import event_emit
from commerce_hub.mail import email_queue
from commerce_hub.site_urls import current_tenant_url
from payments import events
from payments.models import (
    BalanceEntry,
    BalanceKind,
    PaymentSettings,
    Payout,
    PayoutItem,
    PayoutSchedule,
    PayoutStatus,
    ProcessorKey,
)
from payments.processors.base import event_decimal
from payments.selectors.settings import payment_settings

EMAIL_TEMPLATE = "payout"
# The order a payout's state moves in. Stripe may report a payout paid and later failed (the bank returned it),
# so failed and canceled outrank paid; a late "pending" never undoes "in transit".
_RANK = {
    PayoutStatus.PENDING: 0,
    PayoutStatus.IN_TRANSIT: 1,
    PayoutStatus.PAID: 2,
    PayoutStatus.FAILED: 3,
    PayoutStatus.CANCELED: 3,
}
_RETURNED = (PayoutStatus.FAILED, PayoutStatus.CANCELED)


# --- the schedule -------------------------------------------------------------------------------------------------


def payout_day(settings: PaymentSettings, day: date) -> bool:
    """Whether the schedule pays out on `day`. A monthly day past the month's end (31 in February) is its last."""
    if settings.payout_schedule == PayoutSchedule.DAILY:
        return True
    if settings.payout_schedule == PayoutSchedule.WEEKLY:
        return day.weekday() == settings.payout_weekday
    if settings.payout_schedule == PayoutSchedule.MONTHLY:
        last = calendar.monthrange(day.year, day.month)[1]
        return day.day == min(max(settings.payout_monthday, 1), last)
    return False  # manual: only when an admin presses "Pay out now"


def business_day_after(day: date) -> date:
    """The next weekday: a payout made on Friday or at the weekend arrives on Monday."""
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def admins() -> list:
    """Who gets the payout and dispute emails: every active admin (the role that holds manage_settings)."""
    return users_with_permission("accounts.manage_settings")


# --- built-in payouts -----------------------------------------------------------------------------------------------

# One statement per run: the entries due (available by the day, not in a payout yet, and not a payout's own entry),
# their sum per currency when positive, the payouts (one per processor, currency and day: a second run the same day
# conflicts and creates nothing), the PayoutItem rows listing what each includes, and each payout's own entry.
# Every part reads the snapshot the statement started with, so the entries it appends are not "due" themselves.
_RUN_SQL = """
WITH due AS (
    SELECT e.id, e.currency, e.amount
    FROM {entry} e
    WHERE e.processor = %(processor)s AND e.available_on <= %(today)s AND e.kind <> %(payout_kind)s
      AND NOT EXISTS (SELECT 1 FROM {item} i WHERE i.entry_id = e.id)
), totals AS (
    SELECT currency, SUM(amount) AS amount FROM due GROUP BY currency HAVING SUM(amount) > 0
), created AS (
    INSERT INTO {payout} (processor, external_id, currency, amount, status, arrival_date, period_end,
                          failure_message, created_at, paid_at, emailed_at)
    SELECT %(processor)s, NULL, currency, amount, %(pending)s, %(arrival)s, %(today)s, '', %(now)s, NULL, NULL
    FROM totals
    ON CONFLICT DO NOTHING
    RETURNING id, currency, amount
), items AS (
    INSERT INTO {item} (payout_id, entry_id)
    SELECT created.id, due.id FROM created JOIN due ON due.currency = created.currency
), own AS (
    INSERT INTO {entry} (processor, currency, amount, kind, payment_id, refund_id, dispute_id, payout_id,
                         available_on, description, external_id, created_at)
    SELECT %(processor)s, currency, -amount, %(payout_kind)s, NULL, NULL, NULL, id, %(today)s, '', NULL, %(now)s
    FROM created
)
SELECT id FROM created ORDER BY currency
"""


def _lock_payouts() -> None:
    # Runs of this schema (the hourly job, an admin's "Pay out now") take turns, so the second one's statement
    # starts after the first committed and sees its PayoutItem rows: an entry is never offered to two payouts.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':payments.payouts', 0))")


def payouts_run(*, today: date | None = None, force: bool = False) -> list[Payout]:
    """Pay out the built-in processor's available balance, per currency, if `today` is a payout day (or `force`,
    the manual button). Safe to run any number of times: one payout per currency and day."""
    today = today or timezone.localdate()
    if not force and not payout_day(payment_settings(), today):
        return []
    now = timezone.now()
    sql = _RUN_SQL.format(
        entry=BalanceEntry._meta.db_table, item=PayoutItem._meta.db_table, payout=Payout._meta.db_table
    )
    params = {
        "processor": ProcessorKey.BUILTIN,
        "today": today,
        "arrival": business_day_after(today),
        "now": now,
        "pending": PayoutStatus.PENDING,
        "payout_kind": BalanceKind.PAYOUT,
    }
    with transaction.atomic():
        _lock_payouts()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
        payouts = list(Payout.objects.filter(pk__in=ids).order_by("currency"))
        for payout in payouts:
            event_emit(name=events.PAYOUT_CREATED, payload=_payload(payout))
    return payouts


def payout_now(*, actor, today: date | None = None) -> list[Payout]:
    """An admin pays out the available balance now (the manual schedule). One payout per currency and day."""
    settings = payment_settings()
    if settings.payout_schedule != PayoutSchedule.MANUAL:
        raise ValidationError(_("Payouts follow the schedule in the payment settings; switch it to manual first."))
    today = today or timezone.localdate()
    if Payout.objects.filter(processor=ProcessorKey.BUILTIN, period_end=today).exists():
        raise ValidationError(_("There was a payout today already. The next one can be made tomorrow."))
    payouts = payouts_run(today=today, force=True)
    if not payouts:
        raise ValidationError(_("Nothing is available to pay out."))
    return payouts


def payouts_advance(*, today: date | None = None) -> int:
    """Move built-in payouts along, one step per run: made (pending) -> sent (in transit) on the next run -> paid on
    the arrival date. Returns how many moved."""
    today = today or timezone.localdate()
    now = timezone.now()
    builtin = Payout.objects.filter(processor=ProcessorKey.BUILTIN)
    with transaction.atomic():
        sent = builtin.filter(status=PayoutStatus.PENDING).update(status=PayoutStatus.IN_TRANSIT)
        arrived = list(
            builtin.select_for_update().filter(status=PayoutStatus.IN_TRANSIT, arrival_date__lte=today).order_by("pk")
        )
        builtin.filter(pk__in=[p.pk for p in arrived], status=PayoutStatus.IN_TRANSIT).update(
            status=PayoutStatus.PAID, paid_at=now
        )
        for payout in arrived:
            event_emit(name=events.PAYOUT_PAID, payload=_payload(payout))
    return sent + len(arrived)


def payouts_job(*, today: date | None = None) -> int:
    """The hourly job, in the tenant's own day: move payouts along, make the day's payout, email new payouts.
    Every step is idempotent, so beat firing twice changes nothing more."""
    today = today or timezone.localdate()
    payouts_advance(today=today)
    created = payouts_run(today=today)
    payouts_email_send()
    return len(created)


def _payload(payout: Payout) -> dict:
    return {"id": payout.pk, "amount": f"{payout.amount:f}", "currency": payout.currency}


# --- the admins' email ----------------------------------------------------------------------------------------------


def payouts_email_send() -> int:
    """Email admins every payout not emailed yet (built-in and Stripe), once: the payouts are marked with a
    conditional update in the transaction that queues the emails, so a second run, or one racing this one, finds
    nothing left to claim. Returns the number of payouts announced."""
    with transaction.atomic():
        payouts = list(
            Payout.objects.select_for_update(skip_locked=True)
            .filter(emailed_at__isnull=True)
            .exclude(status__in=_RETURNED)
            .order_by("currency", "pk")
        )
        if not payouts:
            return 0
        Payout.objects.filter(pk__in=[p.pk for p in payouts], emailed_at__isnull=True).update(emailed_at=timezone.now())
        totals: dict[str, Decimal] = {}
        for payout in payouts:
            totals[payout.currency] = totals.get(payout.currency, Decimal(0)) + payout.amount
        context = {
            "payouts": [(p, current_tenant_url(reverse("payments:payout_detail", args=[p.pk]))) for p in payouts],
            "totals": sorted(totals.items()),
            "payouts_url": current_tenant_url(reverse("payments:payout_index")),
        }
        for user in admins():
            email_queue(to=user.email, name=EMAIL_TEMPLATE, context={**context, "user": user}, language=user.language)
    return len(payouts)


# --- Stripe's payouts, from its events ------------------------------------------------------------------------------


def _date(value) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=timezone.get_current_timezone()).date()
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def payout_event_apply(*, processor_key: str, event) -> Payout | None:
    """payout.created / payout.updated from a processor that computes its own payouts (Stripe): the payout is
    created once (unique on its id) and its state only moves forward, so events applied twice, late or out of order
    end in the processor's final state. A payout that fails or is cancelled returns its money to the balance."""
    if processor_key == ProcessorKey.BUILTIN:
        return None  # the built-in processor's payouts are made here, not reported
    data = event.data or {}
    status = data.get("status", PayoutStatus.PENDING)
    amount = event_decimal(data.get("amount"))
    currency = str(data.get("currency", "")).upper()[:3]
    if status not in _RANK or amount is None or amount <= 0 or len(currency) != 3 or not event.reference:
        return None
    arrival = _date(data.get("arrival_date")) or timezone.localdate()
    with transaction.atomic():
        payout = Payout.objects.select_for_update().filter(processor=processor_key, external_id=event.reference).first()
        if payout is None:
            try:
                with transaction.atomic():
                    payout = Payout.objects.create(
                        processor=processor_key,
                        external_id=event.reference,
                        currency=currency,
                        amount=amount,
                        status=PayoutStatus.PENDING,
                        arrival_date=arrival,
                    )
            except IntegrityError:
                # The same payout's other event won the race: take its row and go on from there.
                payout = Payout.objects.select_for_update().get(processor=processor_key, external_id=event.reference)
            else:
                BalanceEntry.objects.create(
                    processor=processor_key,
                    currency=currency,
                    amount=-amount,
                    kind=BalanceKind.PAYOUT,
                    payout=payout,
                    available_on=timezone.localdate(),
                    description=event.reference[:200],
                )
                event_emit(name=events.PAYOUT_CREATED, payload=_payload(payout))
        if _RANK[status] <= _RANK[payout.status]:
            if payout.status == status and arrival != payout.arrival_date and status not in _RETURNED:
                payout.arrival_date = arrival
                payout.save(update_fields=["arrival_date"])
            return payout
        previous = payout.status
        payout.status = status
        payout.arrival_date = arrival
        fields = ["status", "arrival_date"]
        if status == PayoutStatus.PAID:
            payout.paid_at = timezone.now()
            fields.append("paid_at")
        if status in _RETURNED:
            payout.failure_message = str(data.get("failure_message") or "")[:300]
            fields.append("failure_message")
        payout.save(update_fields=fields)
        if status in _RETURNED and previous not in _RETURNED:
            BalanceEntry.objects.create(
                processor=processor_key,
                currency=payout.currency,
                amount=payout.amount,
                kind=BalanceKind.PAYOUT_FAILURE,
                payout=payout,
                available_on=timezone.localdate(),
                description=event.reference[:200],
            )
            event_emit(name=events.PAYOUT_FAILED, payload=_payload(payout))
        elif status == PayoutStatus.PAID:
            event_emit(name=events.PAYOUT_PAID, payload=_payload(payout))
    return payout
