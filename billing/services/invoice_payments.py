"""Money against finalized invoices and the states that follow: payments (recorded by hand now, by the payment
processors later through the same service), their reversal, customer credit applied by hand, void and
uncollectible. Every one of them writes the receivables ledger (billing/services/receivables.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import events
from billing.models import (
    CreditNote,
    EntryKind,
    Invoice,
    InvoiceEvent,
    InvoicePayment,
    InvoiceStatus,
    PaymentMethodKind,
    ReceivableEntry,
)
from billing.selectors.receivables import credit_available, invoice_bucket_balance, invoice_figures
from billing.services.invoice_records import invoice_change_record, invoice_lock
from billing.services.receivables import (
    Leg,
    account_lock,
    credit_apply,
    invoice_account_required,
    invoice_settle,
    ledger_post,
)
from commerce_hub.events.services import event_emit
from commerce_hub.money import money_amount_error

PAYMENT_DATE_PAST_LIMIT = timedelta(days=3650)
# The largest single payment accepted (a documented bound, far above any real invoice; see commerce_hub.money).
# A finalized invoice's bucket can take payments, credit and credit notes; a draft has no account yet.
_RECEIVING = (InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE)


def _transition_from_open(invoice: Invoice, *, to: str, kind: str, actor, stamp: str = "", **data) -> bool:
    """Move an open invoice to `to` with a conditional update that must touch its one row, stamping the time of
    the change in `stamp`, and leave the timeline, audit and domain event traces. False when it was not open."""
    now = timezone.now()
    fields = {"status": to, "updated_at": now} | ({stamp: now} if stamp else {})
    if Invoice.objects.filter(pk=invoice.pk, status=InvoiceStatus.OPEN).update(**fields) != 1:
        return False
    for name, value in fields.items():
        setattr(invoice, name, value)
    invoice_change_record(
        invoice,
        kind=kind,
        actor=actor,
        event=events.INVOICE_CHANGES[kind],
        from_status=InvoiceStatus.OPEN,
        to_status=to,
        **data,
    )
    return True


def _payment_errors(*, invoice: Invoice, amount: Decimal, paid_on: date, method: str, reference: str) -> dict:
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    if amount_error := money_amount_error(amount, invoice.currency):
        errors["amount"] = [amount_error]
    if paid_on > today:
        errors["paid_on"] = [_("The payment date cannot be in the future.")]
    elif paid_on < today - PAYMENT_DATE_PAST_LIMIT:
        errors["paid_on"] = [_("Enter a date in the last ten years.")]
    elif invoice.issue_date and paid_on < invoice.issue_date - timedelta(days=365):
        errors["paid_on"] = [_("That is long before the invoice date.")]
    if method not in PaymentMethodKind.values:
        errors["method"] = [_("Choose how it was paid.")]
    if len(reference) > 140:
        errors["reference"] = [_("Keep the reference under 140 characters.")]
    return errors


def invoice_record_payment(
    *,
    invoice: Invoice,
    amount: Decimal,
    paid_on: date,
    method: str,
    reference: str = "",
    actor,
    source: str = "manual",
    external_id: str | None = None,
) -> InvoicePayment:
    """Record money received for an invoice. Received money is never refused: it pays the invoice up to its
    balance and the rest becomes the customer's credit; money for an invoice that is paid, void or uncollectible
    becomes credit whole. A payment whose (source, external_id) was recorded already (a processor's retry)
    returns the first one instead of paying twice."""
    try:
        amount = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        amount = Decimal("NaN")
    with transaction.atomic():
        invoice = invoice_lock(invoice)
        if external_id:
            existing = InvoicePayment.objects.filter(source=source, external_id=external_id).first()
            if existing is not None and existing.invoice_id != invoice.pk:
                raise ValidationError(_("This payment is already recorded on another invoice."))
            if existing is not None:
                return existing
        if invoice.status not in _RECEIVING:
            raise ValidationError(_("Payments can only be recorded on finalized invoices."))
        errors = _payment_errors(invoice=invoice, amount=amount, paid_on=paid_on, method=method, reference=reference)
        if errors:
            raise ValidationError(errors)
        account = invoice_account_required(invoice)
        try:
            with transaction.atomic():
                payment = InvoicePayment.objects.create(
                    invoice=invoice,
                    amount=amount,
                    currency=invoice.currency,
                    paid_on=paid_on,
                    method=method,
                    reference=reference.strip(),
                    source=source,
                    external_id=external_id or None,
                    recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
        except IntegrityError:
            if not external_id:
                raise
            # The same external payment raced in through another worker: it is recorded once.
            return InvoicePayment.objects.get(source=source, external_id=external_id)
        due = invoice_bucket_balance(invoice) if invoice.status == InvoiceStatus.OPEN else Decimal(0)
        applied = min(amount, max(due, Decimal(0)))
        ledger_post(
            account=account,
            currency=invoice.currency,
            actor=actor,
            caused_by="" if source == "manual" else source,
            payment=payment,
            effective_on=paid_on,
            legs=[
                Leg(EntryKind.PAYMENT_RECEIVED, -amount, None),
                Leg(EntryKind.PAYMENT_APPLIED, -applied, invoice),
                Leg(EntryKind.PAYMENT_APPLIED, applied, None),
            ],
            memo=payment.reference,
        )
        invoice_change_record(
            invoice,
            kind="payment_recorded",
            actor=actor,
            amount=f"{amount:f}",
            applied=f"{applied:f}",
            method=method,
            reference=payment.reference,
            paid_on=paid_on.isoformat(),
        )
        event_emit(
            name=events.INVOICE_PAYMENT_RECORDED,
            payload={"id": invoice.pk, "payment_id": payment.pk, "amount": f"{amount:f}", "currency": invoice.currency},
        )
        if amount > applied:
            event_emit(
                name=events.CUSTOMER_CREDIT_ADDED,
                payload={
                    "account": account.key,
                    "currency": invoice.currency,
                    "amount": f"{amount - applied:f}",
                    "entry_id": payment.pk,
                },
            )
        invoice_settle(invoice, actor=actor, via="payment")
    return payment


def payment_reversal(payment: InvoicePayment) -> ReceivableEntry | None:
    return ReceivableEntry.objects.filter(payment=payment, kind=EntryKind.PAYMENT_REVERSED).first()


def payment_reverse(*, payment: InvoicePayment, reason: str, actor) -> InvoicePayment:
    """Undo a payment that was entered by mistake: every ledger entry it made is cancelled by an opposite one, so
    the invoice owes what it owed before and credit kept from it is gone. Processor payments are refunded, not
    reversed. Refused when the credit it left was spent meanwhile (un-apply that invoice's credit first)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why this payment is reversed.")]})
    if len(reason) > 300:
        raise ValidationError({"reason": [_("Keep the reason under 300 characters.")]})
    with transaction.atomic():
        invoice = invoice_lock(payment.invoice)
        payment = InvoicePayment.objects.select_for_update().get(pk=payment.pk)
        if payment.source != "manual":
            raise ValidationError(_("Payments received through a payment processor are refunded, not reversed."))
        if payment_reversal(payment) is not None:
            raise ValidationError(_("This payment was reversed already."))
        entries = list(ReceivableEntry.objects.filter(payment=payment))
        account = invoice_account_required(invoice)
        account_lock(account, payment.currency)
        kept_as_credit = -sum((e.amount for e in entries if e.invoice_id is None), Decimal(0))
        if kept_as_credit > credit_available(account, payment.currency):
            raise ValidationError(
                _("%(amount)s %(currency)s of this payment was kept as customer credit and has been used since.")
                % {"amount": kept_as_credit, "currency": payment.currency}
            )
        applied = -sum((e.amount for e in entries if e.invoice_id is not None), Decimal(0))
        if applied > 0 and invoice.status in (InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE):
            raise ValidationError(_("This invoice is closed (void or uncollectible): its payments cannot be reversed."))
        ledger_post(
            account=account,
            currency=payment.currency,
            actor=actor,
            payment=payment,
            legs=[Leg(EntryKind.PAYMENT_REVERSED, -e.amount, e.invoice if e.invoice_id else None) for e in entries],
            memo=reason,
        )
        invoice_change_record(
            invoice,
            kind="payment_reversed",
            actor=actor,
            event=events.INVOICE_PAYMENT_REVERSED,
            payment_id=payment.pk,
            amount=f"{payment.amount:f}",
            currency=payment.currency,
            reason=reason,
        )
        invoice_settle(invoice, actor=actor, via="reversal")
    return payment


def invoice_apply_credit(*, invoice: Invoice, actor) -> Decimal:
    """Finance staff apply the customer's credit to an open invoice by hand."""
    with transaction.atomic():
        invoice = invoice_lock(invoice)
        if invoice.status != InvoiceStatus.OPEN:
            raise ValidationError(_("Credit can only be applied to open invoices."))
        amount = credit_apply(invoice=invoice, actor=actor)
        if amount <= 0:
            raise ValidationError(_("This customer has no credit in %(currency)s.") % {"currency": invoice.currency})
        invoice_change_record(invoice, kind="credit_applied", actor=actor, amount=f"{amount:f}")
        invoice_settle(invoice, actor=actor, via="credit")
    return amount


def _write_off(invoice: Invoice, *, kind: str, actor, memo: str = "") -> None:
    due = invoice_bucket_balance(invoice)
    if due > 0:
        ledger_post(
            account=invoice_account_required(invoice),
            currency=invoice.currency,
            actor=actor,
            legs=[Leg(kind, -due, invoice)],
            memo=memo,
        )


def invoice_void(*, invoice: Invoice, actor, reason: str = "") -> Invoice:
    """Cancel an open invoice that should never have been issued. Its number stays used (and visible), so the
    series keeps no gap. Refused once money was received: credit it instead."""
    with transaction.atomic():
        invoice = invoice_lock(invoice)
        if invoice.status != InvoiceStatus.OPEN:
            raise ValidationError(_("Only open invoices can be voided."))
        if invoice_figures(invoice).paid > 0:  # a reversed payment no longer counts
            raise ValidationError(_("This invoice has payments, so it cannot be voided. Issue a credit note instead."))
        if CreditNote.objects.filter(invoice=invoice).exists():
            # Voiding would leave the issued credit notes crediting an invoice that no longer counts.
            raise ValidationError(_("This invoice has credit notes, so it cannot be voided. Credit the rest instead."))
        _write_off(invoice, kind=EntryKind.VOIDED, actor=actor, memo=reason[:300])
        _transition_from_open(
            invoice, to=InvoiceStatus.VOID, kind="voided", actor=actor, stamp="voided_at", reason=reason[:300]
        )
    return invoice


def invoice_mark_uncollectible(*, invoice: Invoice, actor) -> Invoice:
    """Write off an open invoice that will not be paid; it stops being reminded and counts as bad debt."""
    with transaction.atomic():
        invoice = invoice_lock(invoice)
        if invoice.status != InvoiceStatus.OPEN:
            raise ValidationError(_("Only open invoices can be marked uncollectible."))
        _write_off(invoice, kind=EntryKind.WRITTEN_OFF, actor=actor)
        _transition_from_open(invoice, to=InvoiceStatus.UNCOLLECTIBLE, kind="uncollectible", actor=actor)
    return invoice


OVERDUE_BATCH = 2000


def invoices_mark_overdue(*, today: date | None = None) -> list[int]:
    """Flag every open invoice that passed its due date and emit invoice.overdue once for each, a batch per
    transaction (rows another worker holds are skipped and picked up by the next run)."""
    today = today or timezone.localdate()
    flagged: list[int] = []
    while True:
        with transaction.atomic():
            rows = list(
                Invoice.objects.select_for_update(skip_locked=True)
                .filter(status=InvoiceStatus.OPEN, due_date__lt=today, overdue_at__isnull=True)
                .order_by("pk")
                .values_list("pk", "number", "due_date")[:OVERDUE_BATCH]
            )
            if not rows:
                return flagged
            Invoice.objects.filter(pk__in=[pk for pk, _n, _d in rows]).update(overdue_at=timezone.now())
            InvoiceEvent.objects.bulk_create(
                [
                    InvoiceEvent(invoice_id=pk, kind="overdue", data={"due_date": due.isoformat()})
                    for pk, _n, due in rows
                ]
            )
            for pk, number, due in rows:
                event_emit(
                    name=events.INVOICE_OVERDUE, payload={"id": pk, "number": number, "due_date": due.isoformat()}
                )
        flagged += [pk for pk, _n, _d in rows]
