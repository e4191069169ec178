"""Payment reminders and late fees, run by billing.invoices_daily (beat fires it hourly; both are idempotent).

Reminders: each step of the schedule (days from the due date) is sent once per invoice, the ReminderSent row and
its emails committing together. Late fees: an overdue invoice is never changed; the fee is a separate invoice that
points at it, and the database allows one per invoice.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from schwifty import IBAN

from billing import events, pricing
from billing.documents import invoice_settings_get
from billing.models import (
    Invoice,
    InvoiceEvent,
    InvoiceSettings,
    InvoiceStatus,
    LateFeeMode,
    LineItem,
    ReminderSent,
    ReminderStep,
)
from billing.selectors.exchange_rates import exchange_rate_on
from billing.selectors.receivables import invoice_figures, with_balance_due
from billing.services.invoice_emails import invoice_email_queue
from billing.services.invoices import (
    invoice_create,
    invoice_event_add,
    invoice_finalize,
    invoice_recipients,
    invoice_send,
)
from commerce_hub.events.services import event_emit
from commerce_hub.money import current_locale, money_format

logger = logging.getLogger(__name__)

# A step whose day passed at most this long ago is still sent (a beat outage, a skipped weekend); older ones are
# not, so adding a step to the schedule does not send it for every invoice that passed that day long ago.
CATCH_UP_DAYS = 7
FINAL_NOTICE_TERM_DAYS = 14
REMINDER_TEMPLATE = "invoice-reminder"

# Every run of a step holds this lock (per tenant schema) until its transaction ends, so two workers never run
# steps side by side: the "no row for a later step" check then always sees what the other worker committed.
_LOCK_SQL = "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))"
_LOCK_CLASS = 72_001

# One statement per step picks the invoices and records the step for them. The unique (invoice, offset_days)
# index is the last word: a second run, or a concurrent one, inserts nothing for an invoice that has the row.
# Invoices whose scheduled day (due_date + offset) falls in [today - CATCH_UP_DAYS, today] are selected by a
# due_date range, which the (status, due_date, id) index serves. Only invoices that were sent and still owe
# something are reminded, and never on or before the day they were issued (an invoice due on receipt is not
# reminded with its own email).
_STEP_SQL = """
INSERT INTO billing_remindersent (invoice_id, offset_days, kind, sent_at)
SELECT candidates.invoice_id, %s, %s, %s FROM ({candidates}) AS candidates(invoice_id)
ON CONFLICT (invoice_id, offset_days) DO NOTHING
RETURNING invoice_id
"""


def _step_candidates(*, offset: int, due_from: date, due_to: date):
    """The invoices a step is due for, as a query (the balance from the ledger's one definition)."""
    later_step_sent = ReminderSent.objects.filter(invoice=OuterRef("pk"), offset_days__gte=offset)
    return (
        with_balance_due(
            Invoice.objects.filter(
                status=InvoiceStatus.OPEN,
                sent_at__isnull=False,
                due_date__range=(due_from, due_to),
                due_date__gt=F("issue_date") - timedelta(days=offset),
            )
        )
        .filter(balance_due__gt=0)
        .filter(~Exists(later_step_sent))
        .order_by("pk")
        .values_list("pk")
    )


def reminders_send(*, today: date | None = None) -> int:
    """Send every reminder step that is due today. Returns the number of invoices reminded.

    Steps run from the latest to the earliest: when a step was missed and a later one is due as well, only the
    later one goes out, and the earlier one then finds a later row and stays unsent (a reminder never follows
    the final notice). Each step is one transaction: its rows, emails, timeline events and domain events commit
    together, so a worker killed halfway leaves nothing of that step behind, and the next run sends it whole.
    """
    today = today or timezone.localdate()
    settings = invoice_settings_get()
    if not settings.reminders_enabled:
        return 0
    if settings.skip_weekends and today.weekday() >= 5:
        return 0  # Monday's run catches up within the window
    sent = 0
    for step in ReminderStep.objects.order_by("-offset_days"):
        sent += _step_send(step=step, today=today, settings=settings)
    return sent


def _step_send(*, step: ReminderStep, today: date, settings: InvoiceSettings) -> int:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_SQL, [_LOCK_CLASS])
            candidates = _step_candidates(
                offset=step.offset_days,
                due_from=today - timedelta(days=CATCH_UP_DAYS + step.offset_days),
                due_to=today - timedelta(days=step.offset_days),
            )
            sql, params = candidates.query.sql_with_params()
            cursor.execute(_STEP_SQL.format(candidates=sql), [step.offset_days, step.kind, timezone.now(), *params])
            ids = sorted(row[0] for row in cursor.fetchall())
        if not ids:
            return 0
        invoices = with_balance_due(Invoice.objects.filter(pk__in=ids)).prefetch_related("contacts").order_by("pk")
        timeline = []
        for invoice in invoices:
            recipients = _reminder_recipients(invoice)
            context = _reminder_context(invoice=invoice, step=step, today=today, settings=settings)
            for address in recipients:
                invoice_email_queue(invoice=invoice, to=address, template=REMINDER_TEMPLATE, **context)
            data = {"offset_days": step.offset_days, "kind": step.kind, "recipients": recipients}
            timeline.append(InvoiceEvent(invoice=invoice, kind="reminder_sent", data=data))
            event_emit(
                name=events.INVOICE_REMINDER_SENT,
                payload={"id": invoice.pk, "number": invoice.number, **data},
            )
        InvoiceEvent.objects.bulk_create(timeline)
    return len(ids)


def _reminder_recipients(invoice: Invoice) -> list[str]:
    contacts = sorted(invoice.contacts.all(), key=lambda c: (c.last_name, c.first_name, c.pk))
    return [c.email for c in contacts if c.email]


def _iban_display(value: str) -> str:
    try:
        return IBAN(value).formatted
    except ValueError:
        return value


def _reminder_context(*, invoice: Invoice, step: ReminderStep, today: date, settings: InvoiceSettings) -> dict:
    """What the reminder says besides the invoice itself: the amount due in the buyer's notation, the dates and
    where to pay. The bank account is today's (where the money should go now), else the one the invoice printed."""
    with translation.override(invoice.language):
        amount_due = money_format(invoice.balance_due, invoice.currency, current_locale())
    printed = (invoice.snapshot or {}).get("bank", {})
    iban = settings.iban or printed.get("iban", "")
    return {
        "kind": step.kind,
        "offset_days": step.offset_days,
        "amount_due": amount_due,
        "due_date": invoice.due_date,
        "due_today": invoice.due_date == today,
        "days_overdue": max((today - invoice.due_date).days, 0),
        "final_date": today + timedelta(days=FINAL_NOTICE_TERM_DAYS),
        "final_term_days": FINAL_NOTICE_TERM_DAYS,
        "bank_holder": settings.bank_account_holder or printed.get("holder", ""),
        "iban": _iban_display(iban) if iban else "",
        "bic": settings.bic or printed.get("bic", ""),
    }


# --- late fees --------------------------------------------------------------------------------------------------------


def late_fees_create(*, today: date | None = None) -> int:
    """Invoice the late fee of every open invoice that is overdue by the configured days and has none yet.
    Returns the number of late fee invoices made.

    One transaction per invoice: a fee that cannot be finalized (the company profile lacks its legal name) is
    logged and tried again on the next run, and does not hold back the others.
    """
    today = today or timezone.localdate()
    settings = invoice_settings_get()
    if settings.late_fee_mode == LateFeeMode.NONE:
        return 0
    cutoff = today - timedelta(days=settings.late_fee_after_days)
    # Like reminders, a fee whose day passed long ago is not charged: switching late fees on (or shortening the
    # days) must not invoice every old overdue invoice at once.
    oldest = cutoff - timedelta(days=CATCH_UP_DAYS)
    candidates = list(
        with_balance_due(
            Invoice.objects.filter(
                status=InvoiceStatus.OPEN,
                due_date__lte=cutoff,
                due_date__gte=oldest,
                late_fee_for__isnull=True,  # a late fee is not charged a late fee
                late_fee_invoice__isnull=True,
            )
        )
        .filter(balance_due__gt=0)
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)
    )
    created = 0
    for invoice_id in candidates:
        try:
            with transaction.atomic():
                fee = _late_fee_invoice_create(invoice_id=invoice_id, settings=settings, today=today)
        except IntegrityError as exc:
            if not late_fee_conflict(exc):
                raise
            continue  # another worker made this invoice's late fee first; the database kept only that one
        except ValidationError as exc:
            logger.warning("Late fee for invoice %s not invoiced: %s", invoice_id, " ".join(exc.messages))
            continue
        created += fee is not None
    return created


def late_fee_conflict(exc: IntegrityError) -> bool:
    """Whether `exc` is the unique late_fee_for column refusing a second late fee for the same invoice."""
    constraint = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None) or ""
    return "late_fee_for" in constraint


def late_fee_amount(*, invoice: Invoice, due: Decimal, settings: InvoiceSettings, today: date) -> Decimal:
    """The fee for `invoice` with `due` still to pay, in its currency, rounded by the pricing engine."""
    if settings.late_fee_mode == LateFeeMode.FIXED:
        # The fixed fee is an amount in its own currency: 15 EUR is never charged as 15 KWD.
        quote = exchange_rate_on(settings.late_fee_currency, invoice.currency, today)
        return Decimal(0) if quote is None else quote.apply(settings.late_fee_amount)
    return pricing.late_interest(
        amount=due,
        yearly_rate=settings.late_fee_interest_rate,
        days=(today - invoice.due_date).days,
        currency=invoice.currency,
    )


def _late_fee_line_name(*, invoice: Invoice, settings: InvoiceSettings, today: date) -> str:
    with translation.override(invoice.language):
        if settings.late_fee_mode == LateFeeMode.FIXED:
            return _("Late fee for %(number)s") % {"number": invoice.number}
        return _("Statutory interest on %(number)s from %(start)s to %(end)s") % {
            "number": invoice.number,
            "start": formats.date_format(invoice.due_date),
            "end": formats.date_format(today),
        }


def _late_fee_invoice_create(*, invoice_id: int, settings: InvoiceSettings, today: date) -> Invoice | None:
    # The overdue invoice's row lock keeps a payment recorded meanwhile from being charged for: the balance read
    # here is the one the fee is computed on.
    invoice = Invoice.objects.select_for_update().filter(pk=invoice_id, status=InvoiceStatus.OPEN).first()
    if invoice is None or Invoice.objects.filter(late_fee_for=invoice).exists():
        return None
    due = invoice_figures(invoice).due
    if due <= 0:
        return None
    amount = late_fee_amount(invoice=invoice, due=due, settings=settings, today=today)
    if amount <= 0:
        return None
    # No tax rate: late-payment interest and compensation are outside the scope of VAT (NL and NO alike).
    line = LineItem(
        name=_late_fee_line_name(invoice=invoice, settings=settings, today=today),
        quantity=Decimal(1),
        unit_price=amount,
        currency=invoice.currency,
    )
    draft = invoice_create(
        actor=None,
        company=invoice.company,
        contacts=list(invoice.contacts.all()),
        currency=invoice.currency,
        language=invoice.language,
        lines=[line],
        late_fee_for=invoice,
    )
    fee = invoice_finalize(invoice=draft, actor=None, issue_date=today)
    invoice_event_add(
        invoice=invoice,
        kind="late_fee_invoiced",
        actor=None,
        late_fee_invoice=fee.number,
        amount=f"{amount:f}",
        currency=invoice.currency,
    )
    if invoice_recipients(fee):
        invoice_send(invoice=fee, actor=None)
    return fee
