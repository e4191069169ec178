"""Taking a payment: the attempt row first, the processor call outside any transaction, the outcome after.

    payment_start       one transaction: the amount recomputed from the invoice, the attempt row (unique on the
                        checkout form's key, and at most one in flight per invoice), committed;
                        then the processor call, with a key derived from that row;
    payment_outcome_record
                        one transaction: the state moves forward only (a late "processing" never undoes a
                        "succeeded"), and on success the money is recorded on the invoice (billing's receivables
                        ledger) and on the processor balance.
An answer that never came (a timeout, a crash between the call and the record) leaves the attempt "created";
`payments_reconcile` asks the processor by the attempt's key and records what it says. Nothing charges twice: the
processor returns the first payment for a key it has seen.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Invoice, InvoiceStatus, PaymentMethodKind
from billing.selectors.receivables import invoice_account, invoice_figures
from billing.services.invoice_payments import invoice_record_payment
from billing.services.invoice_records import invoice_lock
from payments import events
from payments.models import (
    PAYMENT_ACTIVE,
    PAYMENT_FINAL,
    BalanceEntry,
    BalanceKind,
    MethodKind,
    Payment,
    PaymentStatus,
)
from payments.processors import (
    PaymentRequest,
    PaymentResult,
    Processor,
    ProcessorDeclined,
    ProcessorUnreachable,
    processor_get,
)
from payments.processors.base import outside_transaction_required
from payments.selectors.checkout import checkout_methods
from payments.services.payment_records import payment_event_add

# How long an attempt may wait for the processor's answer before the reconciliation job asks for it.
UNKNOWN_AFTER = timedelta(minutes=2)
# A bank or wallet page the buyer never came back from is given up after this long.
ABANDONED_AFTER = timedelta(hours=1)

# The order a payment's state moves in; an event that would move it back is ignored.
_RANK = {
    PaymentStatus.CREATED: 0,
    PaymentStatus.REQUIRES_ACTION: 1,
    PaymentStatus.PROCESSING: 2,
    PaymentStatus.SUCCEEDED: 3,
    PaymentStatus.FAILED: 3,
    PaymentStatus.CANCELED: 3,
}
# How the invoice's payment list names a processor payment's method.
_INVOICE_METHOD = {
    MethodKind.CARD: PaymentMethodKind.CARD,
    MethodKind.SEPA_DEBIT: PaymentMethodKind.BANK_DEBIT,
    MethodKind.ACH_DEBIT: PaymentMethodKind.BANK_DEBIT,
    MethodKind.IDEAL: PaymentMethodKind.BANK_TRANSFER,
    MethodKind.VIPPS_MOBILEPAY: PaymentMethodKind.OTHER,
}


def public_id_new(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(16)}"  # 128 random bits


def invoice_amount_payable(invoice: Invoice) -> Decimal:
    """What a checkout charges for an invoice: its balance due, recomputed here, never read from the request."""
    if invoice.status != InvoiceStatus.OPEN:
        return Decimal(0)
    return invoice_figures(invoice).due


def payment_start(
    *,
    invoice: Invoice,
    attempt_key: str,
    method: str,
    method_data: dict,
    buyer_email: str = "",
    buyer_name: str = "",
    language: str = "en",
    return_url: str = "",
    processor: Processor | None = None,
    actor=None,
    saved_method=None,
) -> Payment:
    """Pay an invoice's open balance. The same attempt key returns the same payment (a double click, a replayed
    post); a second attempt while one is in flight is refused with a clear message."""
    outside_transaction_required("payment_start")
    existing = Payment.objects.filter(attempt_key=attempt_key).first()
    if existing is not None:
        if existing.invoice_id != invoice.pk:
            raise ValidationError(_("This form was already used for another payment."))
        return existing
    from payments.selectors.settings import payment_settings

    processor = processor or processor_get(payment_settings().processor)
    with transaction.atomic():
        invoice = invoice_lock(invoice)
        # The same form sent twice at once: the second waited for the lock while the first committed its attempt;
        # it gets that attempt, not "in progress" or "nothing left to pay".
        raced = Payment.objects.filter(attempt_key=attempt_key, invoice=invoice).first()
        if raced is not None:
            return raced
        amount = invoice_amount_payable(invoice)
        if amount <= 0:
            raise ValidationError(_("This invoice has nothing left to pay."))
        if method not in {m.key for m in checkout_methods(invoice)}:
            raise ValidationError({"method": [_("Choose one of the payment methods offered.")]})
        account = invoice_account(invoice)
        in_flight = Payment.objects.filter(invoice=invoice, status__in=PAYMENT_ACTIVE).first()
        if in_flight is not None:
            raise ValidationError(_payment_in_flight_message(in_flight))
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    public_id=public_id_new("pay"),
                    attempt_key=attempt_key,
                    invoice=invoice,
                    company_id=invoice.company_id,
                    # The person who pays: the account's contact, or the invoice's first contact.
                    contact_id=(account.contact_id if account and account.contact_id else None)
                    or invoice.contacts.order_by("last_name", "first_name", "id").values_list("id", flat=True).first(),
                    deal_id=invoice.deal_id,
                    amount=amount,
                    currency=invoice.currency,
                    method=method,
                    processor=processor.key,
                    buyer_email=buyer_email[:254],
                    buyer_name=buyer_name[:200],
                    language=language,
                    created_by=actor if getattr(actor, "is_authenticated", False) else None,
                    # The method this checkout saved for a subscription's later charges (named before the charge,
                    # so whatever reacts to the invoice being paid finds it).
                    saved_method=saved_method,
                    # The crash marker: from here on the processor may have seen this attempt.
                    called_at=timezone.now(),
                )
        except IntegrityError:
            # Another tab or a concurrent double click won the race for the key or for the invoice.
            raced = Payment.objects.filter(attempt_key=attempt_key).first()
            if raced is not None:
                return raced
            raise ValidationError(_("A payment for this invoice is already in progress.")) from None
        payment_event_add(payment, kind="created", actor=actor, method=method, amount=f"{amount:f}")
    request = PaymentRequest(
        idempotency_key=payment.processor_idempotency_key,
        amount=payment.amount,
        currency=payment.currency,
        method=method,
        description=_("Invoice %(number)s") % {"number": invoice.number},
        method_data=method_data,
        return_url=return_url,
        customer_email=buyer_email,
        metadata={"payment": payment.public_id, "invoice": invoice.number or ""},
    )
    return payment_call(payment=payment, processor=processor, call=lambda: processor.payment_create(request))


def _payment_in_flight_message(payment: Payment) -> str:
    if payment.status == PaymentStatus.PROCESSING:
        return _("A bank debit for this invoice is processing. It settles in a few days; you do not need to pay again.")
    return _("A payment for this invoice is already in progress. Finish or cancel it first.")


def payment_call(*, payment: Payment, processor: Processor, call) -> Payment:
    """Run one processor call for an attempt and record its answer. A definite no fails the attempt; no answer
    leaves it for the reconciliation job."""
    try:
        result = call()
    except ProcessorDeclined as exc:
        return payment_fail(payment=payment, code=exc.code or "declined", message=exc.message)
    except ProcessorUnreachable as exc:
        with transaction.atomic():
            payment_event_add(payment, kind="processor_unreachable", error=str(exc)[:300])
        return payment
    return payment_outcome_record(payment=payment, result=result)


def payment_fail(*, payment: Payment, code: str, message: str) -> Payment:
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status in PAYMENT_FINAL:
            return payment
        now = timezone.now()
        payment.status = PaymentStatus.FAILED
        payment.failure_code = code[:40]
        payment.failure_message = message[:300]
        payment.failed_at = now
        payment.next_action = {}
        payment.updated_at = now
        payment.save(
            update_fields=["status", "failure_code", "failure_message", "failed_at", "next_action", "updated_at"]
        )
        payment_event_add(
            payment, kind="failed", event=events.PAYMENT_FAILED, failure_code=code, failure_message=message[:300]
        )
    return payment


def payment_outcome_record(*, payment: Payment, result: PaymentResult, actor=None) -> Payment:
    """Bring the attempt in line with the processor's answer. Safe to call any number of times, in any order: the
    state only moves forward and success is recorded once."""
    if result.status == PaymentStatus.FAILED or result.status == PaymentStatus.CANCELED:
        if result.status == PaymentStatus.CANCELED:
            return _payment_cancelled(payment, result)
        return payment_fail(payment=payment, code=result.failure_code or "failed", message=result.failure_message)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if _RANK[result.status] <= _RANK[payment.status] and not (
            result.status == payment.status == PaymentStatus.REQUIRES_ACTION
        ):
            return payment  # an old or repeated answer
        if payment.status in PAYMENT_FINAL:
            return payment
        now = timezone.now()
        fields = ["status", "processor_reference", "method_details", "next_action", "updated_at"]
        payment.status = result.status
        payment.processor_reference = result.reference
        payment.method_details = result.method_details or payment.method_details
        payment.next_action = result.next_action if result.status == PaymentStatus.REQUIRES_ACTION else {}
        payment.updated_at = now
        if result.status == PaymentStatus.SUCCEEDED:
            _payment_succeeded(payment, result, now=now, fields=fields)
        payment.save(update_fields=fields)
        if result.status == PaymentStatus.PROCESSING:
            payment_event_add(payment, kind="processing", event=events.PAYMENT_PROCESSING)
        elif result.status == PaymentStatus.REQUIRES_ACTION:
            payment_event_add(payment, kind="requires_action", action=result.next_action.get("type", ""))
        else:
            payment_event_add(payment, kind="succeeded", actor=actor, event=events.PAYMENT_SUCCEEDED)
    return payment


def _payment_succeeded(payment: Payment, result: PaymentResult, *, now, fields: list[str]) -> None:
    """Inside the outcome's transaction: the money on the invoice and on the processor balance."""
    payment.succeeded_at = now
    payment.fee = result.fee if result.fee is not None else Decimal(0)
    fields += ["succeeded_at", "fee", "invoice_payment"]
    if payment.invoice_id:
        payment.invoice_payment = invoice_record_payment(
            invoice=payment.invoice,
            amount=payment.amount,
            paid_on=timezone.localdate(),
            method=_INVOICE_METHOD.get(payment.method, PaymentMethodKind.OTHER),
            reference=result.reference[:140],
            actor=None,
            source=payment.processor,
            external_id=payment.public_id,
        )
    available_on = result.available_on or timezone.localdate()
    entries = [
        BalanceEntry(
            processor=payment.processor,
            currency=payment.currency,
            amount=payment.amount,
            kind=BalanceKind.CHARGE,
            payment=payment,
            available_on=available_on,
            description=payment.public_id,
            external_id=result.balance_reference or None,
        )
    ]
    if payment.fee:
        entries.append(
            BalanceEntry(
                processor=payment.processor,
                currency=payment.currency,
                amount=-payment.fee,
                kind=BalanceKind.FEE,
                payment=payment,
                available_on=available_on,
                description=payment.public_id,
            )
        )
    BalanceEntry.objects.bulk_create(entries)


def _payment_cancelled(payment: Payment, result: PaymentResult) -> Payment:
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status in PAYMENT_FINAL:
            return payment
        payment.status = PaymentStatus.CANCELED
        payment.processor_reference = result.reference or payment.processor_reference
        payment.next_action = {}
        payment.updated_at = timezone.now()
        payment.save(update_fields=["status", "processor_reference", "next_action", "updated_at"])
        payment_event_add(payment, kind="canceled")
    return payment


def payment_refresh(*, payment: Payment, processor: Processor | None = None, now=None) -> Payment:
    """Ask the processor for the attempt's state and record it (the buyer came back from a bank page, or nobody
    heard the answer). An attempt the processor never saw failed without charging anything."""
    if payment.status in PAYMENT_FINAL:
        return payment
    processor = processor or processor_get(payment.processor)
    try:
        result = processor.payment_retrieve(
            reference=payment.processor_reference or "", idempotency_key=payment.processor_idempotency_key
        )
    except ProcessorUnreachable:
        return payment
    if result is None:
        if (
            payment.status == PaymentStatus.CREATED
            and payment.called_at
            and payment.called_at < (now or timezone.now()) - UNKNOWN_AFTER
        ):
            return payment_fail(
                payment=payment,
                code="not_received",
                message=_("The payment never reached the processor; nothing was charged."),
            )
        return payment
    return payment_outcome_record(payment=payment, result=result)


def payment_cancel(*, payment: Payment, processor: Processor | None = None) -> Payment:
    """Give up an attempt waiting for the buyer (they chose another method)."""
    if payment.status != PaymentStatus.REQUIRES_ACTION:
        return payment
    processor = processor or processor_get(payment.processor)
    try:
        result = processor.payment_cancel(reference=payment.processor_reference)
    except ProcessorUnreachable:
        return payment
    return payment_outcome_record(payment=payment, result=result)


def payments_reconcile(*, now=None) -> int:
    """The beat job: resolve attempts whose answer was lost and give up bank pages abandoned for an hour. Asks, never
    charges. Returns how many attempts it looked at."""
    now = now or timezone.now()
    stale = list(
        Payment.objects.filter(status=PaymentStatus.CREATED, called_at__lt=now - UNKNOWN_AFTER).order_by("pk")[:500]
    )
    abandoned = list(
        Payment.objects.filter(status=PaymentStatus.REQUIRES_ACTION, updated_at__lt=now - ABANDONED_AFTER).order_by(
            "pk"
        )[:500]
    )
    for payment in stale:
        payment_refresh(payment=payment, now=now)
    for payment in abandoned:
        refreshed = payment_refresh(payment=payment, now=now)
        if refreshed.status == PaymentStatus.REQUIRES_ACTION:
            payment_cancel(payment=refreshed)
    return len(stale) + len(abandoned)


def payment_charge_saved(*, invoice: Invoice, saved_method, attempt_key: str, actor=None) -> Payment:
    """Charge an invoice's open balance to a payment method the buyer saved, off-session (no buyer present: a
    subscription's renewal, a seller charging on file). The attempt is committed here and charged by a worker
    (payment_process), so a worker that dies mid-charge is simply run again with the same key."""
    existing = Payment.objects.filter(attempt_key=attempt_key).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        invoice = invoice_lock(invoice)
        amount = invoice_amount_payable(invoice)
        if amount <= 0:
            raise ValidationError(_("This invoice has nothing left to pay."))
        if Payment.objects.filter(invoice=invoice, status__in=PAYMENT_ACTIVE).exists():
            raise ValidationError(_("A payment for this invoice is already in progress."))
        account = invoice_account(invoice)
        payment = Payment.objects.create(
            public_id=public_id_new("pay"),
            attempt_key=attempt_key,
            invoice=invoice,
            company_id=invoice.company_id,
            contact_id=account.contact_id if account else None,
            deal_id=invoice.deal_id,
            amount=amount,
            currency=invoice.currency,
            method=saved_method.kind,
            method_details=saved_method.details,
            processor=saved_method.processor,
            saved_method=saved_method,
            off_session=True,
            language=invoice.language,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        payment_event_add(payment, kind="created", actor=actor, method=payment.method, amount=f"{amount:f}")
        # By name: payments.tasks calls these services, so the services never import it.
        transaction.on_commit(lambda: current_app.tasks["payments.payment_process"].delay(payment.pk))
    return payment


def payment_process(*, payment_id: int) -> Payment | None:
    """The worker's half of an off-session charge. Safe to run any number of times: an attempt that was already
    sent is only asked about (its key makes the processor return the first charge), never charged again."""
    payment = Payment.objects.select_related("saved_method", "invoice").filter(pk=payment_id).first()
    if payment is None or payment.status in PAYMENT_FINAL:
        return payment
    processor = processor_get(payment.processor)
    if payment.called_at is not None:
        # A run before this one got as far as the call: ask what became of it first.
        payment = payment_refresh(payment=payment, processor=processor)
        if payment.status != PaymentStatus.CREATED:
            return payment
    # Mark the attempt as sent before the call, committed: a crash from here on leaves a row the reconciliation
    # job (or this task run again) resolves by asking. Calling again with the same key is safe either way: the
    # processor returns the charge it made for that key.
    Payment.objects.filter(pk=payment.pk, called_at__isnull=True).update(called_at=timezone.now())
    request = PaymentRequest(
        idempotency_key=payment.processor_idempotency_key,
        amount=payment.amount,
        currency=payment.currency,
        method=payment.method,
        description=_("Invoice %(number)s") % {"number": payment.invoice.number if payment.invoice else ""},
        saved_method_reference=payment.saved_method.processor_reference if payment.saved_method else "",
        off_session=True,
        metadata={"payment": payment.public_id},
    )
    return payment_call(payment=payment, processor=processor, call=lambda: processor.payment_create(request))
