"""Money given back to a buyer, as the receivables ledger sees it. The payment processors (payments/) move the money
and then call these services, in the transaction that records the processor's answer; billing never calls a
processor.

A refund takes back money a payment brought. The part of it that was applied to the invoice is given back in one of
two ways, as the person refunding chooses:
- "reopen": the invoice owes it again (a payment taken by mistake, a buyer who will pay another way);
- "credit_note": the goods or service are credited too: a credit note for the amount settles the invoice's side,
  so the invoice stays settled and the refund leaves from the credit the note created.
Money of the payment that was kept as customer credit (an overpayment), or any of the customer's credit ("credit"),
is refunded from the credit bucket. A chargeback (a lost dispute) is a refund the buyer's bank forced: the invoice
owes the amount again.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from billing import events, pricing
from billing.models import CreditNote, EntryKind, Invoice, InvoicePayment, InvoiceStatus, ReceivableEntry
from billing.selectors.receivables import credit_available
from billing.services.credit_notes import AmountCredit, credit_note_create
from billing.services.invoice_records import invoice_change_record, invoice_lock
from billing.services.receivables import Leg, account_lock, invoice_account_required, invoice_settle, ledger_post
from commerce_hub.money import quantize

REOPEN, CREDIT_NOTE, CREDIT = "reopen", "credit_note", "credit"
MODES = (REOPEN, CREDIT_NOTE, CREDIT)
_ZERO = Decimal(0)


def _entries_sum(payment: InvoicePayment, query: Q) -> Decimal:
    return ReceivableEntry.objects.filter(query, payment=payment).aggregate(s=Sum("amount"))["s"] or _ZERO


def payment_applied_left(payment: InvoicePayment) -> Decimal:
    """What of a payment still sits on its invoice: applied, less what was reversed, refunded or charged back from
    the invoice since."""
    return -_entries_sum(
        payment,
        Q(invoice__isnull=False)
        & Q(kind__in=[EntryKind.PAYMENT_APPLIED, EntryKind.PAYMENT_REVERSED, EntryKind.REFUND, EntryKind.CHARGEBACK]),
    )


def credit_note_amounts_for(invoice: Invoice, gross: Decimal) -> list[AmountCredit]:
    """Spread a gross amount over the invoice's VAT groups in proportion to what each group charged, with nets in
    the currency's precision. For each group the smallest net whose price with VAT reaches its share is taken, so the
    credit note is never less than the money refunded (at most a cent more, which stays the customer's credit)."""
    groups = [g for g in invoice.snapshot.get("vat_groups", []) if Decimal(g["base"]) > 0]
    if not groups:
        raise ValidationError(_("This invoice has nothing that a credit note could credit."))
    charged = [Decimal(g["base"]) + Decimal(g["vat"]) for g in groups]
    whole = sum(charged, _ZERO)
    shares, left = [], gross
    for index, amount in enumerate(charged):
        share = left if index == len(charged) - 1 else quantize(gross * amount / whole, invoice.currency)
        shares.append(share)
        left -= share
    step = quantize(Decimal("0.01"), invoice.currency) if quantize(Decimal("0.01"), invoice.currency) else Decimal(1)
    amounts = []
    for group, share in zip(groups, shares, strict=True):
        if share <= 0:
            continue
        rate = _ZERO if group["reverse_charge"] else Decimal(group["rate"])
        net = quantize(share / (1 + rate / 100), invoice.currency) - step
        item = pricing.CreditItem
        while True:
            summary = pricing.credit_summary(
                [item(max(net, step), rate, group["label"], group["reverse_charge"])], currency=invoice.currency
            )
            if summary.total >= share:
                break
            net += step
        index = invoice.snapshot["vat_groups"].index(group)
        amounts.append(AmountCredit(description=_("Refund"), net=max(net, step), vat_group=index))
    return amounts


def invoice_payment_refund(
    *, payment: InvoicePayment, amount: Decimal, mode: str, reason: str, actor, caused_by: str = ""
) -> CreditNote | None:
    """Book a refund of `amount` from `payment` (see the module's note). Runs in the caller's transaction when
    there is one (the processor's outcome is recorded in it). Returns the credit note it issued, if any."""
    if mode not in MODES:
        raise ValidationError({"mode": [_("Choose how the refund is booked.")]})
    with transaction.atomic():
        invoice = invoice_lock(payment.invoice)
        account = invoice_account_required(invoice)
        account_lock(account, payment.currency)
        refunded = _entries_sum(payment, Q(kind=EntryKind.REFUND))
        if amount <= 0 or refunded + amount > payment.amount:
            raise ValidationError(
                {
                    "amount": [
                        _("At most %(left)s of this payment is left to refund.") % {"left": payment.amount - refunded}
                    ]
                }
            )
        on_invoice = _ZERO
        note = None
        if mode != CREDIT and invoice.status in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
            on_invoice = min(amount, payment_applied_left(payment))
        if mode == CREDIT_NOTE and on_invoice > 0:
            note = credit_note_create(
                invoice=invoice,
                actor=actor,
                amounts=credit_note_amounts_for(invoice, on_invoice),
                reason=reason or _("Refund"),
            )
            invoice = invoice_lock(invoice)  # the note may have moved its state (settled it)
            # The note settled the invoice's side: what it did not take off the balance became credit, and the
            # refund leaves from there first; only what the credit cannot cover comes off the invoice.
            from_credit = min(amount, credit_available(account, payment.currency))
            on_invoice = amount - from_credit
        from_credit = amount - on_invoice
        if from_credit > credit_available(account, payment.currency):
            raise ValidationError(
                {
                    "amount": [
                        _("Only %(credit)s of the customer's credit is left to refund.")
                        % {"credit": credit_available(account, payment.currency)}
                    ]
                }
            )
        ledger_post(
            account=account,
            currency=payment.currency,
            actor=actor,
            caused_by=caused_by,
            payment=payment,
            legs=[Leg(EntryKind.REFUND, on_invoice, invoice), Leg(EntryKind.REFUND, from_credit, None)],
            memo=reason,
        )
        invoice_change_record(
            invoice,
            kind="payment_refunded",
            actor=actor,
            event=events.INVOICE_PAYMENT_REFUNDED,
            payment_id=payment.pk,
            amount=f"{amount:f}",
            currency=payment.currency,
            mode=mode,
            credit_note=note.number if note else "",
            reason=reason,
        )
        invoice_settle(invoice, actor=actor, via="refund")
    return note


def invoice_payment_chargeback(*, payment: InvoicePayment, amount: Decimal, reason: str, caused_by: str) -> None:
    """A lost dispute: the buyer's bank took `amount` of the payment back. What of the payment still sat on the
    invoice is owed again (the invoice reopens); the rest comes out of the credit it left."""
    with transaction.atomic():
        invoice = invoice_lock(payment.invoice)
        account = invoice_account_required(invoice)
        account_lock(account, payment.currency)
        on_invoice = min(amount, max(payment_applied_left(payment), _ZERO))
        if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
            on_invoice = _ZERO
        ledger_post(
            account=account,
            currency=payment.currency,
            caused_by=caused_by,
            payment=payment,
            legs=[Leg(EntryKind.CHARGEBACK, on_invoice, invoice), Leg(EntryKind.CHARGEBACK, amount - on_invoice, None)],
            memo=reason,
        )
        invoice_change_record(
            invoice,
            kind="payment_charged_back",
            actor=None,
            event=events.INVOICE_PAYMENT_CHARGED_BACK,
            payment_id=payment.pk,
            amount=f"{amount:f}",
            currency=payment.currency,
        )
        invoice_settle(invoice, actor=None, via="chargeback")
