"""Money against finalized invoices and the states that follow: payments (recorded by hand now, by the payment
processors later through the same service), void and uncollectible."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import CreditNote, Invoice, InvoiceEvent, InvoicePayment, InvoiceStatus, PaymentMethodKind
from billing.selectors.invoice_balances import invoice_balance
from billing.services.invoices import invoice_change_record
from commerce_hub.events.services import event_emit
from commerce_hub.money import quantize

PAYMENT_DATE_PAST_LIMIT = timedelta(days=3650)


def invoice_lock(invoice: Invoice) -> Invoice:
    locked = Invoice.objects.select_for_update().filter(pk=invoice.pk).first()
    if locked is None:
        raise ValidationError(_("This invoice no longer exists."))
    return locked


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
        invoice, kind=kind, actor=actor, event=kind, from_status=InvoiceStatus.OPEN, to_status=to, **data
    )
    return True


def invoice_settle_if_paid(invoice: Invoice, *, actor, via: str) -> bool:
    """Move an open invoice whose balance reached zero to paid (inside the caller's transaction)."""
    if invoice.status != InvoiceStatus.OPEN or invoice_balance(invoice).due > 0:
        return False
    return _transition_from_open(invoice, to=InvoiceStatus.PAID, kind="paid", actor=actor, stamp="paid_at", via=via)


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
    """Record money received, full or partial. More than the balance is refused; a payment with an external_id
    that was recorded already (a processor's retry) returns the first one instead of paying twice."""
    errors: dict[str, list[str]] = {}
    try:
        amount = Decimal(amount)
    except (InvalidOperation, TypeError, ValueError):
        amount = Decimal("NaN")
    today = timezone.localdate()
    with transaction.atomic():
        invoice = invoice_lock(invoice)
        if external_id:
            existing = InvoicePayment.objects.filter(external_id=external_id).first()
            if existing is not None and existing.invoice_id != invoice.pk:
                raise ValidationError(_("This payment is already recorded on another invoice."))
            if existing is not None:
                return existing
        if invoice.status != InvoiceStatus.OPEN:
            raise ValidationError(
                _("Payments can only be recorded on open invoices; this one is %(status)s.")
                % {"status": InvoiceStatus(invoice.status).label.lower()}
            )
        balance = invoice_balance(invoice)
        if not amount.is_finite() or amount <= 0:
            errors["amount"] = [_("Enter an amount above zero.")]
        elif quantize(amount, invoice.currency) != amount:
            errors["amount"] = [_("Use at most the currency's decimals.")]
        elif amount > balance.due:
            errors["amount"] = [
                _("That is more than the balance due (%(due)s %(currency)s).")
                % {"due": balance.due, "currency": invoice.currency}
            ]
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
        if errors:
            raise ValidationError(errors)
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
            return InvoicePayment.objects.get(external_id=external_id)
        invoice_change_record(
            invoice,
            kind="payment_recorded",
            actor=actor,
            amount=f"{amount:f}",
            method=method,
            reference=payment.reference,
            paid_on=paid_on.isoformat(),
        )
        event_emit(
            name="invoice.payment_recorded",
            payload={"id": invoice.pk, "payment_id": payment.pk, "amount": f"{amount:f}", "currency": invoice.currency},
        )
        invoice_settle_if_paid(invoice, actor=actor, via="payment")
    return payment


def invoice_void(*, invoice: Invoice, actor, reason: str = "") -> Invoice:
    """Cancel an open invoice that should never have been issued. Its number stays used (and visible), so the
    series keeps no gap. Refused once money was received: credit it instead."""
    with transaction.atomic():
        invoice = invoice_lock(invoice)
        if invoice.status != InvoiceStatus.OPEN:
            raise ValidationError(_("Only open invoices can be voided."))
        if InvoicePayment.objects.filter(invoice=invoice).exists():
            raise ValidationError(_("This invoice has payments, so it cannot be voided. Issue a credit note instead."))
        if CreditNote.objects.filter(invoice=invoice).exists():
            # Voiding would leave the issued credit notes crediting an invoice that no longer counts.
            raise ValidationError(_("This invoice has credit notes, so it cannot be voided. Credit the rest instead."))
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
                event_emit(name="invoice.overdue", payload={"id": pk, "number": number, "due_date": due.isoformat()})
        flagged += [pk for pk, _n, _d in rows]
