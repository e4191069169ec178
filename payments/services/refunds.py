"""Refunds: the pending row first (committed, counted against what is refundable), the processor call outside any
transaction, the outcome after. The payment row is locked while the pending row is written, so concurrent refund
requests are serialised and never add up to more than was captured, whatever the processor does."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.selectors.receivables import credit_available, invoice_account
from billing.services.invoice_refunds import invoice_payment_refund
from commerce_hub.money import money_amount_error, money_format
from payments import events
from payments.models import (
    DISPUTE_OPEN,
    BalanceEntry,
    BalanceKind,
    Payment,
    PaymentStatus,
    Refund,
    RefundMode,
    RefundStatus,
)
from payments.processors import ProcessorDeclined, ProcessorUnreachable, RefundResult, processor_get
from payments.processors.base import outside_transaction_required
from payments.services.payment_records import payment_event_add
from payments.services.payments import public_id_new


def payment_refundable(payment: Payment) -> Decimal:
    """What is left to refund: captured, less refunds that succeeded or are still pending and disputed amounts the
    bank has taken."""
    taken = Refund.objects.filter(payment=payment).exclude(status=RefundStatus.FAILED).aggregate(s=Sum("amount"))["s"]
    lost = payment.disputes.filter(status="lost").aggregate(s=Sum("amount"))["s"]
    return payment.amount - (taken or Decimal(0)) - (lost or Decimal(0))


def refund_request(
    *, payment: Payment, amount, mode: str, reason: str = Refund.Reason.REQUESTED, note: str = "", actor
) -> Refund:
    """Refund part or all of a succeeded payment, as the person chose: reopening the invoice's balance, with a
    credit note, or out of the customer's credit."""
    outside_transaction_required("refund_request")
    try:
        amount = Decimal(str(amount).strip().replace(",", "."))
    except (InvalidOperation, TypeError, ValueError):
        amount = Decimal("NaN")
    errors: dict[str, list[str]] = {}
    if error := money_amount_error(amount, payment.currency):
        errors["amount"] = [error]
    if mode not in RefundMode.values:
        errors["mode"] = [_("Choose how the refund is booked.")]
    if reason not in Refund.Reason.values:
        errors["reason"] = [_("Choose a reason.")]
    if len(note) > 300:
        errors["note"] = [_("Keep the note under 300 characters.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status != PaymentStatus.SUCCEEDED:
            raise ValidationError(_("Only a succeeded payment can be refunded."))
        if payment.disputes.filter(status__in=DISPUTE_OPEN).exists():
            # The bank has withdrawn the disputed amount already; refunding too would pay the buyer twice.
            raise ValidationError(_("This payment is disputed. Answer the dispute instead of refunding it."))
        left = payment_refundable(payment)
        if amount > left:
            raise ValidationError(
                {
                    "amount": [
                        _("At most %(amount)s is left to refund.") % {"amount": money_format(left, payment.currency)}
                    ]
                }
            )
        if mode == RefundMode.CREDIT and payment.invoice_id:
            account = invoice_account(payment.invoice)
            credit = credit_available(account, payment.currency) if account else Decimal(0)
            if amount > credit:
                raise ValidationError(
                    {
                        "amount": [
                            _("The customer has %(amount)s of credit to refund.")
                            % {"amount": money_format(credit, payment.currency)}
                        ]
                    }
                )
        refund = Refund.objects.create(
            public_id=public_id_new("re"),
            payment=payment,
            amount=amount,
            currency=payment.currency,
            mode=mode,
            reason=reason,
            note=note.strip(),
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            called_at=timezone.now(),
        )
        payment_event_add(payment, kind="refund_requested", actor=actor, amount=f"{amount:f}", refund=refund.public_id)
    return refund_call(refund=refund)


def refund_call(*, refund: Refund) -> Refund:
    processor = processor_get(refund.payment.processor)
    try:
        result = processor.refund_create(
            payment_reference=refund.payment.processor_reference,
            amount=refund.amount,
            currency=refund.currency,
            idempotency_key=refund.processor_idempotency_key,
            reason=refund.reason,
        )
    except ProcessorDeclined as exc:
        return refund_fail(refund=refund, message=exc.message)
    except ProcessorUnreachable:
        return refund  # pending: refunds_reconcile asks later
    return refund_outcome_record(refund=refund, result=result)


def refund_fail(*, refund: Refund, message: str) -> Refund:
    with transaction.atomic():
        refund = Refund.objects.select_for_update().get(pk=refund.pk)
        if refund.status != RefundStatus.PENDING:
            return refund
        refund.status = RefundStatus.FAILED
        refund.failure_message = message[:300]
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "failure_message", "completed_at"])
        payment_event_add(refund.payment, kind="refund_failed", amount=f"{refund.amount:f}", message=message[:300])
        from commerce_hub.events.services import event_emit

        event_emit(name=events.REFUND_FAILED, payload=_payload(refund))
    return refund


def _payload(refund: Refund) -> dict:
    return {
        "id": refund.pk,
        "payment_id": refund.payment_id,
        "amount": f"{refund.amount:f}",
        "currency": refund.currency,
    }


def refund_outcome_record(*, refund: Refund, result: RefundResult) -> Refund:
    """Record a refund the processor made: once, with the receivables ledger (billing) and the processor balance in
    the same transaction as the state change."""
    if result.status == RefundStatus.FAILED:
        return refund_fail(refund=refund, message=result.failure_message or _("The processor refused the refund."))
    if result.status != RefundStatus.SUCCEEDED:
        return refund
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund.pk)
        if refund.status != RefundStatus.PENDING:
            return refund
        payment = refund.payment
        mode = refund.mode
        if payment.invoice_payment_id:
            try:
                with transaction.atomic():
                    refund.credit_note = invoice_payment_refund(
                        payment=payment.invoice_payment,
                        amount=refund.amount,
                        mode=mode,
                        reason=refund.note or refund.get_reason_display(),
                        actor=refund.created_by,
                        caused_by=f"processor:{payment.processor}",
                    )
            except ValidationError:
                # The money has left already; what the person chose is no longer possible (the credit was spent
                # meanwhile), so the refund reopens the invoice's balance instead, which is always possible.
                mode = RefundMode.REOPEN
                refund.credit_note = invoice_payment_refund(
                    payment=payment.invoice_payment,
                    amount=refund.amount,
                    mode=mode,
                    reason=refund.note or refund.get_reason_display(),
                    actor=refund.created_by,
                    caused_by=f"processor:{payment.processor}",
                )
        refund.status = RefundStatus.SUCCEEDED
        refund.mode = mode
        refund.processor_reference = result.reference
        refund.completed_at = timezone.now()
        refund.save(update_fields=["status", "mode", "processor_reference", "completed_at", "credit_note"])
        BalanceEntry.objects.create(
            processor=payment.processor,
            currency=refund.currency,
            amount=-refund.amount,
            kind=BalanceKind.REFUND,
            payment=payment,
            refund=refund,
            available_on=timezone.localdate(),
            description=refund.public_id,
            external_id=result.balance_reference or None,
        )
        payment_event_add(payment, kind="refunded", actor=refund.created_by, amount=f"{refund.amount:f}", mode=mode)
        from commerce_hub.events.services import event_emit

        event_emit(name=events.REFUND_SUCCEEDED, payload=_payload(refund) | {"mode": mode})
    return refund


def refunds_reconcile() -> int:
    """Resolve refunds whose answer was lost by asking the processor with the refund's own key."""
    pending = list(
        Refund.objects.filter(status=RefundStatus.PENDING, called_at__lt=timezone.now() - timedelta(minutes=2))
        .select_related("payment")
        .order_by("pk")[:500]
    )
    for refund in pending:
        processor = processor_get(refund.payment.processor)
        try:
            result = processor.refund_retrieve(
                idempotency_key=refund.processor_idempotency_key, payment_reference=refund.payment.processor_reference
            )
        except ProcessorUnreachable:
            continue
        if result is None:
            # Never reached the processor: asking it again with the same key is safe, it cannot refund twice.
            refund_call(refund=refund)
        else:
            refund_outcome_record(refund=refund, result=result)
    return len(pending)


def refund_event_apply(*, processor_key: str, event) -> None:
    """A refund the processor reports (Stripe's charge.refunded / refund.updated): ours is brought in line; one
    made at the processor's own dashboard is recorded as a refund that reopens the invoice's balance."""
    data = event.data
    refund = Refund.objects.filter(payment__processor=processor_key, processor_reference=event.reference).first()
    if refund is None and data.get("idempotency_key"):
        refund = Refund.objects.filter(
            payment__processor=processor_key, public_id=data["idempotency_key"].removeprefix("commerce-hub-refund-")
        ).first()
    result = RefundResult(
        reference=event.reference,
        status=data.get("status", RefundStatus.SUCCEEDED),
        amount=Decimal(data.get("amount", "0")),
        currency=data.get("currency", ""),
        failure_message=data.get("failure_message", ""),
        balance_reference=data.get("balance_reference", ""),
    )
    if refund is not None:
        refund_outcome_record(refund=refund, result=result)
        return
    payment = Payment.objects.filter(processor=processor_key, processor_reference=data.get("payment_reference")).first()
    if payment is None or result.status != RefundStatus.SUCCEEDED or result.amount <= 0:
        return
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if Refund.objects.filter(payment=payment, processor_reference=event.reference).exists():
            return
        amount = min(result.amount, payment_refundable(payment))
        if amount <= 0:
            return
        refund = Refund.objects.create(
            public_id=public_id_new("re"),
            payment=payment,
            amount=amount,
            currency=payment.currency,
            mode=RefundMode.REOPEN,
            reason=Refund.Reason.OTHER,
            note=_("Refunded at the processor"),
            processor_reference=event.reference,
            called_at=timezone.now(),
        )
    refund_outcome_record(refund=refund, result=result)
