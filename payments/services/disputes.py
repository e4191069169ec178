"""Disputes (chargebacks): the buyer's bank pulls a payment back pending review.

When a dispute opens, the processor withdraws the disputed amount and a dispute fee from the balance at once. Won,
the amount comes back (the fee stays); lost, it is gone for good and the invoice owes it again (billing's
chargeback on the receivables ledger).

Processor events are applied here (dispute.opened, dispute.updated, dispute.closed), from Stripe's webhooks and the
built-in processor's clock alike. Each event carries the dispute's whole state, and the state is the truth: whatever
event arrives first creates the dispute with its withdrawal, and a final status (won, lost) closes it once. So
replays change nothing, and a "closed" that arrives before its "opened" still ends with the same books.

The seller answers a built-in dispute from the payment's page: accept (lose at once) or send evidence (under review,
decided when the review ends). The processor is called outside any transaction; its answer is an ordinary event.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from billing.services.invoice_refunds import invoice_payment_chargeback
from commerce_hub.events.services import event_emit
from payments import events
from payments.models import (
    DISPUTE_OPEN,
    BalanceEntry,
    BalanceKind,
    Dispute,
    DisputeStatus,
    Payment,
    ProcessorKey,
)
from payments.processors import ProcessorEvent
from payments.processors.base import event_decimal, outside_transaction_required
from payments.selectors.settings import payment_settings
from payments.services.payment_records import payment_event_add

_FINAL = (DisputeStatus.WON, DisputeStatus.LOST)
_RANK = {DisputeStatus.NEEDS_RESPONSE: 0, DisputeStatus.UNDER_REVIEW: 1, DisputeStatus.WON: 2, DisputeStatus.LOST: 2}
# Evidence is free text for the bank's reviewer; processors cap it (Stripe's text fields at 150,000 characters).
EVIDENCE_MAX = 5000


def _when(value) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    try:
        parsed = parse_datetime(str(value))
    except ValueError:
        return None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def _payload(dispute: Dispute, **extra) -> dict:
    return {
        "id": dispute.pk,
        "payment_id": dispute.payment_id,
        "amount": f"{dispute.amount:f}",
        "currency": dispute.currency,
    } | extra


def dispute_event_apply(*, processor_key: str, event: ProcessorEvent) -> Dispute | None:
    """Apply dispute.opened / dispute.updated / dispute.closed (see the module's note). The payment row is locked
    first, so events about one dispute that arrive together are applied one after the other."""
    data = event.data or {}
    status = data.get("status") or DisputeStatus.NEEDS_RESPONSE
    if event.kind == "dispute.opened" and status in _FINAL:
        status = DisputeStatus.NEEDS_RESPONSE  # an "opened" never closes anything; its "closed" does
    payment_reference = data.get("payment_reference") or ""
    if status not in _RANK or not event.reference or not payment_reference:
        return None
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update()
            .filter(processor=processor_key, processor_reference=payment_reference)
            .first()
        )
        if payment is None:
            return None  # not one of ours (another integration on the same processor account)
        dispute = Dispute.objects.select_for_update().filter(processor_reference=event.reference).first()
        if dispute is None:
            dispute = _dispute_open(payment, processor_key=processor_key, reference=event.reference, data=data)
            if dispute is None:
                return None
        if dispute.status in _FINAL:
            return dispute  # closed already: replays and stragglers change nothing
        due_by = _when(data.get("evidence_due_by"))
        if status in _FINAL:
            _dispute_close(dispute, payment, processor_key=processor_key, status=status)
        elif _RANK[status] > _RANK[dispute.status] or (due_by and due_by != dispute.evidence_due_by):
            fields = []
            if _RANK[status] > _RANK[dispute.status]:
                dispute.status = status
                fields.append("status")
            if due_by and due_by != dispute.evidence_due_by:
                dispute.evidence_due_by = due_by
                fields.append("evidence_due_by")
            dispute.save(update_fields=fields)
            payment_event_add(payment, kind="dispute_updated", dispute=dispute.pk, status=dispute.status)
    return dispute


def _dispute_open(payment: Payment, *, processor_key: str, reference: str, data: dict) -> Dispute | None:
    """The dispute row, the money withdrawn (the amount and the fee), the timeline and the admins' notice."""
    amount = event_decimal(data.get("amount"))
    if amount is None or amount <= 0:
        amount = payment.amount
    amount = min(amount, payment.amount)
    try:
        with transaction.atomic():
            dispute = Dispute.objects.create(
                payment=payment,
                processor_reference=reference,
                amount=amount,
                currency=payment.currency,
                reason=str(data.get("reason") or "")[:60],
                status=DisputeStatus.NEEDS_RESPONSE,
                evidence_due_by=_when(data.get("evidence_due_by")),
            )
    except IntegrityError:
        # The reference is taken by a dispute of another payment: not this payment's dispute.
        return Dispute.objects.select_for_update().filter(processor_reference=reference, payment=payment).first()
    if processor_key == ProcessorKey.BUILTIN:
        fee = payment_settings().dispute_fee
    else:
        fee = event_decimal(data.get("fee")) or Decimal(0)
    today = timezone.localdate()
    entries = [
        BalanceEntry(
            processor=processor_key,
            currency=dispute.currency,
            amount=-dispute.amount,
            kind=BalanceKind.DISPUTE,
            payment=payment,
            dispute=dispute,
            available_on=today,
            description=reference[:200],
            external_id=data.get("balance_reference") or None,
        )
    ]
    if fee > 0:
        entries.append(
            BalanceEntry(
                processor=processor_key,
                currency=dispute.currency,
                amount=-fee,
                kind=BalanceKind.DISPUTE_FEE,
                payment=payment,
                dispute=dispute,
                available_on=today,
                description=reference[:200],
            )
        )
    BalanceEntry.objects.bulk_create(entries)
    payment_event_add(
        payment, kind="dispute_opened", dispute=dispute.pk, amount=f"{dispute.amount:f}", reason=dispute.reason
    )
    event_emit(name=events.DISPUTE_OPENED, payload=_payload(dispute))
    return dispute


def _dispute_close(dispute: Dispute, payment: Payment, *, processor_key: str, status: str) -> None:
    """Won: the amount comes back to the balance (the fee does not). Lost: the invoice owes the amount again."""
    dispute.status = status
    dispute.closed_at = timezone.now()
    dispute.save(update_fields=["status", "closed_at"])
    if status == DisputeStatus.WON:
        BalanceEntry.objects.create(
            processor=processor_key,
            currency=dispute.currency,
            amount=dispute.amount,
            kind=BalanceKind.DISPUTE_REVERSAL,
            payment=payment,
            dispute=dispute,
            available_on=timezone.localdate(),
            description=dispute.processor_reference[:200],
        )
    elif payment.invoice_payment_id:
        invoice_payment_chargeback(
            payment=payment.invoice_payment,
            amount=dispute.amount,
            reason=_("Dispute lost: %(reason)s") % {"reason": dispute.reason or dispute.processor_reference},
            caused_by=f"processor:{processor_key}",
        )
    payment_event_add(payment, kind="dispute_closed", dispute=dispute.pk, status=status)
    event_emit(name=events.DISPUTE_CLOSED, payload=_payload(dispute, status=status))


# --- the seller's answer (built-in processor) -----------------------------------------------------------------------


def dispute_response_check(*, dispute: Dispute, accept: bool, evidence: str) -> str:
    """Validate an answer before anything is sent; returns the evidence as it will be sent."""
    evidence = (evidence or "").strip()
    if dispute.payment.processor != ProcessorKey.BUILTIN:
        raise ValidationError(_("Answer this dispute in your processor's dashboard."))
    if dispute.status != DisputeStatus.NEEDS_RESPONSE:
        raise ValidationError(_("This dispute was answered already."))
    if not accept and not evidence:
        raise ValidationError({"evidence": [_("Describe the evidence: what was delivered, when, and to whom.")]})
    if len(evidence) > EVIDENCE_MAX:
        raise ValidationError(
            {"evidence": [_("Keep the evidence under %(max)s characters.") % {"max": f"{EVIDENCE_MAX:,}"}]}
        )
    return evidence


def dispute_response_record(*, dispute: Dispute, accept: bool, evidence: str, actor) -> Dispute:
    """Inside the answering request's transaction (with its idempotency key): who answered and how, on the
    payment's timeline. The processor is told after commit (dispute_respond)."""
    dispute = Dispute.objects.select_for_update().select_related("payment").get(pk=dispute.pk)
    evidence = dispute_response_check(dispute=dispute, accept=accept, evidence=evidence)
    payment_event_add(
        dispute.payment,
        kind="dispute_accepted" if accept else "dispute_evidence_submitted",
        actor=actor,
        dispute=dispute.pk,
        evidence=evidence[:500],
    )
    return dispute


def dispute_respond(*, dispute: Dispute, accept: bool, evidence: str = "") -> Dispute:
    """Send the seller's answer to the built-in processor and apply the event it answers with. Outside any
    transaction; answering twice is harmless (the processor answers only a dispute that needs a response)."""
    outside_transaction_required("A dispute response")
    dispute = Dispute.objects.select_related("payment").get(pk=dispute.pk)
    if dispute.payment.processor != ProcessorKey.BUILTIN:
        raise ValidationError(_("Answer this dispute in your processor's dashboard."))
    from payments.processors.builtin import BuiltinProcessor

    processor = BuiltinProcessor()
    event = processor.dispute_respond(reference=dispute.processor_reference, accept=accept, evidence=evidence)
    if event is not None:
        # A dispute event, applied as processor_event_apply would (which dispatches dispute.* here).
        dispute_event_apply(processor_key=processor.key, event=event)
    dispute.refresh_from_db()
    return dispute


def dispute_is_open(dispute: Dispute) -> bool:
    return dispute.status in DISPUTE_OPEN


# --- the admins' notice ---------------------------------------------------------------------------------------------

OPENED_TEMPLATE = "dispute-opened"
CLOSED_TEMPLATE = "dispute-closed"


def dispute_admins_notify(*, dispute_id: int, template: str, delivery_id: int) -> bool:
    """Email every admin about a dispute that opened or closed, once per event delivery: the emails are stored with
    the delivery's mark (delivery_once), so a delivery run again after a crash sends nothing twice."""
    from django.urls import reverse

    from commerce_hub.events.services import delivery_once
    from commerce_hub.mail import email_queue
    from commerce_hub.site_urls import current_tenant_url
    from payments.selectors.payouts import payment_url
    from payments.services.payouts import admins

    dispute = Dispute.objects.select_related("payment__invoice", "payment__company").filter(pk=dispute_id).first()
    if dispute is None:
        return False
    path = payment_url(dispute.payment_id) or reverse("payments:payment_index")
    context = {
        "dispute": dispute,
        "payment": dispute.payment,
        "invoice": dispute.payment.invoice,
        # Entries are signed (a withdrawal is negative); the email names the fee as a positive amount.
        "fee": -sum(
            BalanceEntry.objects.filter(dispute=dispute, kind=BalanceKind.DISPUTE_FEE).values_list("amount", flat=True),
            Decimal(0),
        ),
        "can_respond": dispute.payment.processor == ProcessorKey.BUILTIN,
        "url": current_tenant_url(path),
    }

    def effect():
        for user in admins():
            email_queue(to=user.email, name=template, context={**context, "user": user}, language=user.language)

    return delivery_once(delivery_id=delivery_id, effect=effect, step=template)
