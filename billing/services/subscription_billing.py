"""The billing run: every due period of every due subscription of the current tenant, billed exactly once.

Batches
    A batch claims up to `batch_size` due subscriptions with SELECT ... FOR UPDATE SKIP LOCKED (in id order, after
    the last id this run saw), builds all their invoices in Python with the pricing engine, and writes them
    set-based in ONE transaction: the invoices, their line and adjustment copies and contacts (bulk inserts), the
    ledger's issue entries (one insert), the invoice numbers (one UPDATE of the counter row for the whole batch),
    the finalization (one UPDATE), the timelines, audit rows and domain events (bulk), and the subscriptions
    advanced (one bulk update). A batch commits whole or not at all.

Exactly once
    A period is billed in the transaction that advances its subscription past it, under the subscription's row
    lock. A second run at the same time skips the locked rows (SKIP LOCKED) and re-reads what the first committed
    once it is its turn: the subscription is no longer due. A run killed halfway rolled back its open batch, whose
    subscriptions are due again, and its committed batches are not. The unique constraint on (subscription,
    period_start) backs the locks: a period that has an invoice already (made by another path) is stepped over,
    never billed again; and if both ever raced past the locks, the second insert fails and its batch rolls back.

Catch-up
    A subscription several periods behind bills every missed period, each once, oldest first, in one batch: each
    invoice is dated on its own period's billing date.

Time
    "Today" is the tenant's date at `now` (its timezone, so the 00:30 run on a DST-change day bills that day's
    periods). Subscriptions on a test clock are left alone unless named in `subscription_ids`
    (billing.services.subscription_clock moves them).

Collection (after commit)
    A subscription that charges automatically, with a saved payment method and a registered collector
    (billing.subscription_collection), has its open invoices handed to the collector; every other invoice is
    emailed by a Celery task. An invoice the customer's credit settled entirely is paid when issued and never
    charged.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from billing import events, pricing
from billing.models import (
    CollectionMethod,
    EntryKind,
    Invoice,
    InvoiceEvent,
    InvoiceStatus,
    LineItem,
    NumberSeries,
    ReceivableEntry,
    Subscription,
    SubscriptionEvent,
    SubscriptionSettings,
    SubscriptionStatus,
)
from billing.selectors.receivables import Account
from billing.services.invoices import LINE_COPY_FIELDS
from billing.services.numbering import numbers_take
from billing.services.receivables import credit_spend
from billing.subscription_collection import subscription_collector_available, subscription_invoices_collect
from billing.subscription_invoices import (
    DocumentContext,
    PeriodContent,
    period_bounds_of,
    period_content,
    period_document,
    subscription_language,
    subscription_mrr,
    subscription_terms_days,
)
from commerce_hub.accounts.models import AuditEntry
from commerce_hub.events.services import events_emit
from commerce_hub.organization.selectors import organization_profile_get

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# A subscription further behind than this bills the rest in the next run (an hour later): one batch stays bounded.
MAX_PERIODS_PER_BATCH = 1000
_LINE_ATTNAMES = [LineItem._meta.get_field(name).attname for name in LINE_COPY_FIELDS]
_SUBSCRIPTION_FIELDS = [  # what the run may change on a subscription (restored when one fails)
    "status",
    "billing_anchor",
    "anchor_day",
    "next_period_index",
    "periods_billed",
    "current_period_start",
    "current_period_end",
    "next_billing_date",
    "coupon_periods_left",
    "paused_at",
    "resume_on",
    "ended_at",
    "canceled_at",
    "mrr",
    "updated_at",
]


@dataclass
class BillingRunResult:
    invoice_ids: list[int] = field(default_factory=list)
    batches: int = 0
    activated: int = 0
    resumed: int = 0
    ended: int = 0
    canceled: int = 0
    trial_notices: int = 0
    collected: int = 0  # invoices handed to the collector
    emailed: int = 0  # invoices emailed
    settled_by_credit: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)  # (subscription id, why), left for the next run

    @property
    def invoices(self) -> int:
        return len(self.invoice_ids)


def tenant_zone() -> ZoneInfo:
    return ZoneInfo(organization_profile_get().timezone)


def tenant_date(now: datetime) -> date:
    """The tenant's calendar date at `now`."""
    return now.astimezone(tenant_zone()).date()


def _due_filter(today: date) -> Q:
    return (
        Q(status__in=[SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE], next_billing_date__lte=today)
        | Q(status=SubscriptionStatus.SCHEDULED, start_date__lte=today)
        | Q(status=SubscriptionStatus.SCHEDULED, next_billing_date__lte=today)
        | Q(status=SubscriptionStatus.PAUSED, resume_on__lte=today)
    )


def subscriptions_due(*, today: date, subscription_ids: Iterable[int] | None = None):
    queryset = Subscription.objects.filter(_due_filter(today))
    if subscription_ids is None:
        return queryset.filter(test_clock__isnull=True)
    return queryset.filter(pk__in=list(subscription_ids))


# --- one batch --------------------------------------------------------------------------------------------------------


@dataclass
class _Bill:
    subscription: Subscription
    content: PeriodContent
    invoice: Invoice
    account: Account
    credit_used: Decimal = Decimal(0)


@dataclass
class _Batch:
    now: datetime
    today: date
    bills: list[_Bill] = field(default_factory=list)
    changed: dict[int, Subscription] = field(default_factory=dict)
    sub_events: list[SubscriptionEvent] = field(default_factory=list)
    domain_events: list[tuple] = field(default_factory=list)  # (event type, payload)
    lines: dict[int, list[LineItem]] | None = None  # each subscription's lines, loaded once per batch
    priced: dict[int, PeriodContent] = field(default_factory=dict)  # each subscription's last period billed
    result: BillingRunResult | None = None

    def record(self, subscription: Subscription, kind: str, event=None, *, from_status="", to_status="", **data):
        self.changed[subscription.pk] = subscription
        self.sub_events.append(
            SubscriptionEvent(
                subscription_id=subscription.pk,
                kind=kind,
                from_status=from_status,
                to_status=to_status,
                data=data,
                at=self.now,
            )
        )
        if event is not None:
            self.domain_events.append((event, {"id": subscription.pk, **data}))


def _account(subscription: Subscription) -> Account | None:
    if subscription.company_id:
        return Account(company_id=subscription.company_id)
    if subscription.contact_id:
        return Account(contact_id=subscription.contact_id)
    return None


def _resume(sub: Subscription, batch: _Batch) -> None:
    """A pause with an end date is over: active again. When the last billed period is over by then, periods count
    from the day it resumes (Stripe's billing cycle anchor reset); otherwise the paid period simply runs on."""
    resume_on = sub.resume_on
    before = sub.status
    sub.status = SubscriptionStatus.ACTIVE
    sub.paused_at = None
    sub.resume_on = None
    if sub.next_billing_date < resume_on:
        sub.billing_anchor = resume_on
        sub.anchor_day = resume_on.day
        sub.next_period_index = 0
        sub.next_billing_date = resume_on
    batch.result.resumed += 1
    batch.record(
        sub,
        "resumed",
        events.SUBSCRIPTION_RESUMED_ON_DATE,
        from_status=before,
        to_status=sub.status,
        on=resume_on.isoformat(),
    )


def _stop(sub: Subscription, batch: _Batch, *, to: str, kind: str, event, reason: str) -> None:
    before = sub.status
    sub.status = to
    if to == SubscriptionStatus.ENDED:
        sub.ended_at = batch.now
        batch.result.ended += 1
    else:
        sub.canceled_at = batch.now
        batch.result.canceled += 1
    batch.record(
        sub, kind, event, from_status=before, to_status=to, on=sub.next_billing_date.isoformat(), reason=reason
    )


def _subscription_advance(
    sub: Subscription, lines: list[LineItem], billed_starts: set[date], batch: _Batch, context: DocumentContext
) -> None:
    """Everything due for one subscription today, in order: resume, activate, then each due period (or the end)."""
    if sub.status == SubscriptionStatus.PAUSED:
        if sub.resume_on is None or sub.resume_on > batch.today:
            return
        _resume(sub, batch)
    if sub.status == SubscriptionStatus.SCHEDULED and (
        sub.start_date <= batch.today or sub.next_billing_date <= batch.today
    ):
        sub.status = SubscriptionStatus.ACTIVE
        batch.result.activated += 1
        batch.record(
            sub,
            "activated",
            events.SUBSCRIPTION_ACTIVATED,
            from_status=SubscriptionStatus.SCHEDULED,
            to_status=SubscriptionStatus.ACTIVE,
            on=sub.start_date.isoformat(),
        )
    account = _account(sub)
    for _period in range(MAX_PERIODS_PER_BATCH):
        if sub.status not in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE):
            return
        if sub.next_billing_date > batch.today:
            return
        if sub.cancel_at_period_end:
            _stop(
                sub,
                batch,
                to=SubscriptionStatus.CANCELED,
                kind="canceled",
                event=events.SUBSCRIPTION_CANCELED_AT_PERIOD_END,
                reason="period_end",
            )
            return
        if sub.term_periods is not None and sub.periods_billed >= sub.term_periods:
            _stop(sub, batch, to=SubscriptionStatus.ENDED, kind="ended", event=events.SUBSCRIPTION_ENDED, reason="term")
            return
        content = period_content(
            sub,
            lines=lines,
            index=sub.next_period_index,
            periods_billed_before=sub.periods_billed,
            coupon_periods_left=sub.coupon_periods_left,
        )
        if content is None:  # every line's own term is over
            _stop(sub, batch, to=SubscriptionStatus.ENDED, kind="ended", event=events.SUBSCRIPTION_ENDED, reason="term")
            return
        if content.period_start in billed_starts:
            # Billed already (the constraint's natural key): step over it, never bill it twice.
            _period_advance(sub, content)
            batch.changed[sub.pk] = sub
            continue
        if account is None:
            raise ValueError("the subscription has no company or contact to bill")
        batch.bills.append(_Bill(sub, content, _invoice_build(sub, content, batch, context), account))
        batch.priced[sub.pk] = content
        _period_advance(sub, content)
        batch.changed[sub.pk] = sub


def _period_advance(sub: Subscription, content: PeriodContent) -> None:
    sub.next_period_index = content.index + 1
    sub.periods_billed += 1
    sub.current_period_start = content.period_start
    sub.current_period_end = content.period_end
    sub.next_billing_date = period_bounds_of(sub, content.index + 1)[0]
    if content.coupon_applied and sub.coupon_periods_left is not None:
        sub.coupon_periods_left = max(0, sub.coupon_periods_left - 1)


def _invoice_build(sub: Subscription, content: PeriodContent, batch: _Batch, context: DocumentContext) -> Invoice:
    issue_date = content.billing_date
    document = period_document(sub, content, issue_date=issue_date, context=context)
    return Invoice(
        status=InvoiceStatus.DRAFT,
        currency=sub.currency,
        language=subscription_language(sub),
        company_id=sub.company_id,
        deal_id=sub.deal_id,
        subscription_id=sub.pk,
        period_start=content.period_start,
        period_end=content.period_end,
        payment_terms_days=subscription_terms_days(sub),
        payment_methods=document["payment_methods"],
        issue_date=issue_date,
        due_date=date.fromisoformat(document["due_date"]),
        snapshot=document,
        total=Decimal(document["total"]),
        logo_path=document["logo_path"],
        public_token=secrets.token_urlsafe(32),  # 256 random bits
        created_at=batch.now,
        updated_at=batch.now,
    )


def _credit_accounts(bills: list[_Bill]) -> set[tuple[str, str]]:
    """The (account key, currency) pairs of the batch that hold customer credit: one query for the whole batch, so
    only the few invoices whose buyer has credit go through the per-account lock."""
    companies = {b.account.company_id for b in bills if b.account.company_id}
    contacts = {b.account.contact_id for b in bills if not b.account.company_id}
    found: set[tuple[str, str]] = set()
    if companies:
        rows = (
            ReceivableEntry.objects.filter(invoice__isnull=True, company_id__in=companies)
            .values("company_id", "currency")
            .annotate(s=Sum("amount"))
            .filter(s__lt=0)
        )
        found |= {(Account(company_id=r["company_id"]).key, r["currency"]) for r in rows}
    if contacts:
        rows = (
            ReceivableEntry.objects.filter(invoice__isnull=True, company_id__isnull=True, contact_id__in=contacts)
            .values("contact_id", "currency")
            .annotate(s=Sum("amount"))
            .filter(s__lt=0)
        )
        found |= {(Account(contact_id=r["contact_id"]).key, r["currency"]) for r in rows}
    return found


def _batch_write(batch: _Batch) -> None:
    """Write everything the batch built, set-based, inside the batch's transaction."""
    bills = batch.bills
    now = batch.now
    if bills:
        invoices = Invoice.objects.bulk_create([b.invoice for b in bills])
        adjustment_rows, contact_rows = [], []
        through = Invoice.contacts.through
        for bill, invoice in zip(bills, invoices, strict=True):
            for position, adjustment in enumerate(bill.content.adjustments):
                adjustment.invoice_id = invoice.pk
                adjustment.position = position
                adjustment_rows.append(adjustment)
            if bill.subscription.contact_id:
                contact_rows.append(through(invoice_id=invoice.pk, contact_id=bill.subscription.contact_id))
        _lines_copy(bills, now)
        if adjustment_rows:
            type(adjustment_rows[0]).objects.bulk_create(adjustment_rows)
        through.objects.bulk_create(contact_rows)
        _issue_entries_post([b.invoice.pk for b in bills], now)
        # Customer credit first, before anything is charged: only for buyers that hold some.
        with_credit = _credit_accounts(bills)
        # In account order: two batches spending the credit of the same buyers take their locks in one order.
        for bill in sorted(bills, key=lambda b: (b.account.key, b.invoice.currency, b.invoice.pk)):
            if bill.invoice.total > 0 and (bill.account.key, bill.invoice.currency) in with_credit:
                bill.credit_used = credit_spend(
                    account=bill.account, invoice=bill.invoice, up_to=bill.invoice.total, actor=None
                )
        # Numbers last: the counter row stays locked from here to commit, over a few statements only.
        numbers = numbers_take(key=NumberSeries.INVOICE, count=len(bills))
        statuses = []
        for bill, (number, sequence) in zip(bills, numbers, strict=True):
            paid = bill.invoice.total - bill.credit_used <= 0
            bill.invoice.number, bill.invoice.sequence = number, sequence
            bill.invoice.status = InvoiceStatus.PAID if paid else InvoiceStatus.OPEN
            bill.invoice.snapshot["number"] = number
            statuses.append(bill.invoice.status)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE billing_invoice AS i SET status = v.status, number = v.number, sequence = v.sequence, "
                "snapshot = jsonb_set(i.snapshot, '{number}', to_jsonb(v.number)), finalized_at = %s, "
                "paid_at = CASE WHEN v.status = 'paid' THEN %s::timestamptz END, updated_at = %s "
                "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::text[]) AS number, "
                "unnest(%s::bigint[]) AS sequence, unnest(%s::text[]) AS status) AS v "
                "WHERE i.id = v.id AND i.status = 'draft'",
                [
                    now,
                    now,
                    now,
                    [b.invoice.pk for b in bills],
                    [b.invoice.number for b in bills],
                    [b.invoice.sequence for b in bills],
                    statuses,
                ],
            )
            if cursor.rowcount != len(bills):
                raise RuntimeError("an invoice of the batch was finalized meanwhile")
        _invoice_traces(bills, now)
        for bill in bills:
            sub = bill.subscription
            batch.record(
                sub,
                "invoiced",
                None,
                invoice_id=bill.invoice.pk,
                number=bill.invoice.number,
                period_start=bill.content.period_start.isoformat(),
                period_end=bill.content.period_end.isoformat(),
                total=f"{bill.invoice.total:f}",
            )
        events_emit(
            name=events.SUBSCRIPTION_INVOICED,
            payloads=[
                {
                    "id": b.subscription.pk,
                    "invoice_id": b.invoice.pk,
                    "number": b.invoice.number,
                    "period_start": b.content.period_start.isoformat(),
                    "period_end": b.content.period_end.isoformat(),
                }
                for b in bills
            ],
        )
    if batch.changed:
        lines_by_sub = _lines_of(batch.changed) if batch.lines is None else batch.lines
        for sub in batch.changed.values():
            sub.updated_at = now
            # On a line the engine refuses, the MRR stays as it was.
            with contextlib.suppress(pricing.PricingError):
                sub.mrr = subscription_mrr(sub, lines=lines_by_sub.get(sub.pk, []), priced=batch.priced.get(sub.pk))
        _subscriptions_update(list(batch.changed.values()))
    SubscriptionEvent.objects.bulk_create(batch.sub_events)
    grouped: dict = defaultdict(list)
    for event_type, payload in batch.domain_events:
        grouped[event_type].append(payload)
    for event_type, payloads in grouped.items():
        events_emit(name=event_type, payloads=payloads)


# The columns the run changes, with their SQL types: one UPDATE ... FROM unnest(...) for the whole batch.
_SUBSCRIPTION_TYPES = {
    "status": "text",
    "billing_anchor": "date",
    "anchor_day": "integer",
    "next_period_index": "integer",
    "periods_billed": "integer",
    "current_period_start": "date",
    "current_period_end": "date",
    "next_billing_date": "date",
    "coupon_periods_left": "integer",
    "paused_at": "timestamptz",
    "resume_on": "date",
    "ended_at": "timestamptz",
    "canceled_at": "timestamptz",
    "mrr": "numeric",
    "updated_at": "timestamptz",
}


def _subscriptions_update(subscriptions: list[Subscription]) -> None:
    """Write the advanced subscriptions in one statement (rows the batch holds locked)."""
    names = list(_SUBSCRIPTION_TYPES)
    columns = ", ".join(f"{name} = v.{name}" for name in names)
    arrays = ", ".join(f"%s::{kind}[]" for kind in _SUBSCRIPTION_TYPES.values())
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE billing_subscription AS s SET {columns} "  # noqa: S608 - column names are the constants above
            f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {', '.join(names)}) WHERE s.id = v.id",
            [[sub.pk for sub in subscriptions]] + [[getattr(sub, name) for sub in subscriptions] for name in names],
        )


def _lines_of(subscriptions: dict[int, Subscription]) -> dict[int, list[LineItem]]:
    grouped: dict[int, list[LineItem]] = defaultdict(list)
    for line in (
        LineItem.objects.filter(subscription_id__in=list(subscriptions))
        .select_related("tax_rate")
        .order_by("subscription_id", "position", "id")
    ):
        grouped[line.subscription_id].append(line)
    return grouped


def _lines_copy(bills: list[_Bill], now: datetime) -> None:
    """Copy each billed subscription line onto its invoice in one INSERT ... SELECT (the drafts' lines)."""
    pairs = [(b.invoice.pk, line.pk) for b in bills for line in b.content.lines]
    columns = ", ".join(_LINE_ATTNAMES)
    selected = ", ".join(f"l.{name}" for name in _LINE_ATTNAMES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO billing_lineitem (invoice_id, {columns}, created_at) "  # noqa: S608 - model column names
            f"SELECT v.invoice_id, {selected}, %s FROM unnest(%s::bigint[], %s::bigint[]) AS v(invoice_id, line_id) "
            "JOIN billing_lineitem AS l ON l.id = v.line_id",
            [now, [p[0] for p in pairs], [p[1] for p in pairs]],
        )


def _issue_entries_post(invoice_ids: list[int], now: datetime) -> None:
    """The ledger's issue entry of each invoice (what invoice_finalize books), in one INSERT ... SELECT: on the
    invoice's company, or the subscription's contact when there is no company; effective on the invoice date."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_receivableentry (company_id, contact_id, currency, amount, kind, invoice_id, "
            "effective_on, caused_by, memo, created_at) "
            "SELECT i.company_id, CASE WHEN i.company_id IS NULL THEN s.contact_id END, i.currency, i.total, %s, i.id, "
            "i.issue_date, 'system', '', %s FROM billing_invoice AS i "
            "JOIN billing_subscription AS s ON s.id = i.subscription_id WHERE i.id = ANY(%s)",
            [EntryKind.INVOICE_FINALIZED.value, now, invoice_ids],
        )


def _invoice_traces(bills: list[_Bill], now: datetime) -> None:
    """What invoice_finalize leaves for each invoice (timeline, audit row, invoice.finalized and invoice.paid
    events), in bulk: the timeline and audit rows in one INSERT ... SELECT each."""
    ids = [b.invoice.pk for b in bills]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_invoiceevent (invoice_id, kind, from_status, to_status, data, at) "
            "SELECT i.id, 'finalized', 'draft', i.status, jsonb_build_object('total', i.snapshot->>'total', "
            "'currency', i.currency, 'subscription', i.subscription_id), %s FROM billing_invoice AS i "
            "WHERE i.id = ANY(%s) ORDER BY i.id",
            [now, ids],
        )
        cursor.execute(
            f"INSERT INTO {AuditEntry._meta.db_table} (created_at, actor_email, action, object_type, object_id, "  # noqa: S608
            "object_repr, before, after, request_id) "
            "SELECT %s, '', 'invoice.finalized', %s, i.id::text, i.number, '{\"status\": \"draft\"}'::jsonb, "
            "jsonb_build_object('status', i.status, 'total', i.snapshot->>'total', 'currency', i.currency), '' "
            "FROM billing_invoice AS i WHERE i.id = ANY(%s) ORDER BY i.id",
            [now, Invoice._meta.label_lower, ids],
        )
    credited = [
        InvoiceEvent(invoice_id=b.invoice.pk, kind="credit_applied", data={"amount": f"{b.credit_used:f}"}, at=now)
        for b in bills
        if b.credit_used
    ]
    InvoiceEvent.objects.bulk_create(credited)
    events_emit(
        name=events.INVOICE_FINALIZED,
        payloads=[
            {
                "id": b.invoice.pk,
                "number": b.invoice.number,
                "total": b.invoice.snapshot["total"],
                "currency": b.invoice.currency,
            }
            for b in bills
        ],
    )
    paid = [b for b in bills if b.invoice.status == InvoiceStatus.PAID]
    if paid:
        events_emit(name=events.INVOICE_PAID, payloads=[{"id": b.invoice.pk, "number": b.invoice.number} for b in paid])


# fn(invoice_ids) enqueues the email task after commit: set by billing.subscription_tasks when it loads (tasks import
# services, never the reverse).
_email_enqueue: Callable[[list[int]], None] | None = None


def invoices_email_enqueuer_set(fn: Callable[[list[int]], None] | None) -> None:
    global _email_enqueue
    _email_enqueue = fn


def _collect_after_commit(bills: list[_Bill], result: BillingRunResult) -> None:
    """Charge or email each new invoice once the batch has committed (never inside the transaction: a processor
    call or an SMTP server must not hold the batch's locks)."""
    collector = subscription_collector_available()
    charge, email = [], []
    for bill in bills:
        sub = bill.subscription
        automatic = sub.collection_method == CollectionMethod.CHARGE_AUTOMATICALLY and bool(sub.payment_method_ref)
        if bill.invoice.status == InvoiceStatus.PAID:
            result.settled_by_credit += 1
        # Nothing due after credit: never charged, only sent (the buyer still gets the invoice, marked paid).
        if bill.invoice.status == InvoiceStatus.OPEN and automatic and collector:
            charge.append(bill.invoice.pk)
        else:
            email.append(bill.invoice.pk)
    if charge:
        result.collected += len(charge)
        transaction.on_commit(lambda: subscription_invoices_collect(invoice_ids=charge), robust=True)
    if email:
        result.emailed += len(email)
        if _email_enqueue is not None:
            _email_enqueue(email)
        else:  # no task module loaded (a script): send in this process once the batch has committed
            transaction.on_commit(lambda: subscription_invoices_send(invoice_ids=email), robust=True)


# --- the run ----------------------------------------------------------------------------------------------------------


def subscriptions_bill_due(
    *,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    subscription_ids: Iterable[int] | None = None,
    after_batch: Callable[[int], None] | None = None,
) -> BillingRunResult:
    """Bill every due period of every due subscription of the current tenant, exactly once, in batches of
    `batch_size` subscriptions (each batch one transaction). `subscription_ids` limits the run to those (test
    clocks included). `after_batch(n)` is called after batch n committed (tests stop a run halfway with it).
    Trial-ending emails go out first."""
    now = now or timezone.now()
    today = tenant_date(now)
    ids = None if subscription_ids is None else list(subscription_ids)
    result = BillingRunResult()
    result.trial_notices = trial_notices_send(now=now, subscription_ids=ids)
    last_id = 0
    context = None
    while True:
        with transaction.atomic():
            claimed = list(
                subscriptions_due(today=today, subscription_ids=ids)
                .filter(pk__gt=last_id)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("company", "contact", "coupon")
                .order_by("pk")[:batch_size]
            )
            if not claimed:
                return result
            last_id = claimed[-1].pk
            if context is None:
                context = DocumentContext.load(freeze_logo=True)
            lines = _lines_of({sub.pk: sub for sub in claimed})
            batch = _Batch(now=now, today=today, result=result, lines=lines)
            billed = defaultdict(set)
            # Periods that have an invoice already (the constraint's natural key), from the earliest one due on.
            existing = Invoice.objects.filter(
                subscription_id__in=[s.pk for s in claimed],
                period_start__gte=min(s.next_billing_date for s in claimed),
            )
            for sub_id, start in existing.values_list("subscription_id", "period_start"):
                billed[sub_id].add(start)
            for sub in claimed:
                snapshot = {name: getattr(sub, name) for name in _SUBSCRIPTION_FIELDS}
                marks = (len(batch.bills), len(batch.sub_events), len(batch.domain_events))
                counts = (result.activated, result.resumed, result.ended, result.canceled)
                try:
                    _subscription_advance(sub, lines.get(sub.pk, []), billed[sub.pk], batch, context)
                except (pricing.PricingError, ValueError) as exc:
                    # This subscription cannot be billed as it stands (a line the engine refuses, no buyer): it is
                    # left exactly as it was, reported, and tried again by the next run; the batch goes on.
                    for name, value in snapshot.items():
                        setattr(sub, name, value)
                    del batch.bills[marks[0] :]
                    del batch.sub_events[marks[1] :]
                    del batch.domain_events[marks[2] :]
                    result.activated, result.resumed, result.ended, result.canceled = counts
                    batch.changed.pop(sub.pk, None)
                    result.failed.append((sub.pk, str(exc)))
                    logger.warning("subscription %s not billed: %s", sub.pk, exc)
            _batch_write(batch)
            result.invoice_ids += [b.invoice.pk for b in batch.bills]
            _collect_after_commit(batch.bills, result)
        result.batches += 1
        if after_batch is not None:
            after_batch(result.batches)


# --- trial reminders --------------------------------------------------------------------------------------------------


def trial_notices_send(*, now: datetime, subscription_ids: list[int] | None = None) -> int:
    """Email the buyer of each subscription whose trial ends within the tenant's reminder days, once
    (trial_notice_sent_at is set in the transaction that queues the email). Returns how many went out."""
    from billing.services.subscription_notices import trial_ending_email_queue

    today = tenant_date(now)
    days = SubscriptionSettings.objects.filter(pk=1).values_list("trial_reminder_days", flat=True).first()
    days = 3 if days is None else days

    sent = 0
    while True:
        with transaction.atomic():
            queryset = Subscription.objects.filter(
                trial_end__isnull=False,
                trial_notice_sent_at__isnull=True,
                trial_end__gt=today,
                trial_end__lte=today + timedelta(days=days),
                periods_billed=0,
                status__in=[SubscriptionStatus.SCHEDULED, SubscriptionStatus.ACTIVE],
            )
            if subscription_ids is None:
                queryset = queryset.filter(test_clock__isnull=True)
            else:
                queryset = queryset.filter(pk__in=subscription_ids)
            rows = list(
                queryset.select_for_update(skip_locked=True, of=("self",))
                .select_related("company", "contact")
                .order_by("pk")[:BATCH_SIZE]
            )
            if not rows:
                return sent
            Subscription.objects.filter(pk__in=[s.pk for s in rows]).update(trial_notice_sent_at=now)
            SubscriptionEvent.objects.bulk_create(
                [
                    SubscriptionEvent(
                        subscription_id=s.pk, kind="trial_notice_sent", data={"trial_end": str(s.trial_end)}, at=now
                    )
                    for s in rows
                ]
            )
            events_emit(
                name=events.SUBSCRIPTION_TRIAL_ENDING,
                payloads=[{"id": s.pk, "trial_end": s.trial_end.isoformat()} for s in rows],
            )
            for sub in rows:
                trial_ending_email_queue(subscription=sub)
            sent += len(rows)


# --- emailing the invoices --------------------------------------------------------------------------------------------


def subscription_invoices_send(*, invoice_ids: Iterable[int]) -> int:
    """Email each invoice not sent yet to its buyer contacts (invoice_send), each in its own transaction under the
    invoice's row lock, so two runs of the task send it once. An invoice without a contact to send to is left for
    finance to send by hand. Returns how many were sent now."""
    from django.core.exceptions import ValidationError

    from billing.services.invoices import invoice_send

    sent = 0
    for invoice_id in invoice_ids:
        with transaction.atomic():
            invoice = Invoice.objects.select_for_update().filter(pk=invoice_id, sent_at__isnull=True).first()
            if invoice is None:
                continue
            try:
                invoice_send(invoice=invoice, actor=None)
            except ValidationError as exc:
                logger.info("subscription invoice %s not emailed: %s", invoice_id, exc)
                continue
            sent += 1
    return sent
