"""Writes to the receivables ledger: posting entries, settling an invoice's stored state on its balance, and
customer credit (added, applied).

Callers run inside their own transaction and hold the invoice's row lock (invoice_lock) where an invoice is
involved. Reading and spending an account's credit takes the account's advisory lock, always after the invoice's
row lock, so two invoices of one customer cannot both spend the same credit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from babel.numbers import is_currency
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import events
from billing.models import CreditNote, EntryKind, Invoice, InvoicePayment, InvoiceStatus, ReceivableEntry
from billing.selectors.receivables import (
    Account,
    credit_available,
    invoice_account,
    invoice_bucket_balance,
    invoice_figures,
)
from billing.services.invoice_records import invoice_change_record
from commerce_hub.events.services import event_emit
from commerce_hub.money import money_amount_error

_ACCOUNT_LOCK_CLASS = 72_002


@dataclass(frozen=True)
class Leg:
    kind: str
    amount: Decimal
    invoice: Invoice | None = None  # None: the account's credit bucket


def ledger_post(
    *,
    account: Account,
    currency: str,
    legs: list[Leg],
    actor=None,
    caused_by: str = "",
    payment: InvoicePayment | None = None,
    credit_note: CreditNote | None = None,
    effective_on: date | None = None,
    memo: str = "",
) -> list[ReceivableEntry]:
    if not connection.in_atomic_block:
        raise RuntimeError("ledger_post must run inside the transaction that makes the change.")
    real_actor = actor if getattr(actor, "is_authenticated", False) else None
    entries = [
        ReceivableEntry(
            company_id=account.company_id,
            contact_id=None if account.company_id else account.contact_id,
            currency=currency,
            amount=leg.amount,
            kind=leg.kind,
            invoice=leg.invoice,
            payment=payment,
            credit_note=credit_note,
            effective_on=effective_on or timezone.localdate(),
            actor=real_actor,
            caused_by=caused_by or ("" if real_actor else "system"),
            memo=memo[:300],
        )
        for leg in legs
        if leg.amount != 0 or leg.kind == EntryKind.INVOICE_FINALIZED
    ]
    return ReceivableEntry.objects.bulk_create(entries)


def account_lock(account: Account, currency: str) -> None:
    """Serialise every reader-then-spender of one account's credit in one currency until the transaction ends."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema() || %s))",
            [_ACCOUNT_LOCK_CLASS, f":{account.key}:{currency}"],
        )


def invoice_account_required(invoice: Invoice) -> Account:
    account = invoice_account(invoice)
    if account is None:
        raise ValidationError(_("This invoice has no buyer (company or contact) to book it on."))
    return account


def invoice_settle(invoice: Invoice, *, actor, via: str) -> str:
    """Bring the stored state in line with the ledger after an entry on the invoice's bucket: open with nothing
    due becomes paid, paid with something due again (a reversed payment) reopens. Returns the new state."""
    balance = invoice_bucket_balance(invoice)
    now = timezone.now()
    if invoice.status == InvoiceStatus.OPEN and balance <= 0:
        # Settled by credit notes alone, it was credited, not paid: finance and the buyer read "Credited".
        figures = invoice_figures(invoice)
        kind = "credited" if figures.paid == 0 and figures.credited > 0 else "paid"
        target, fields = InvoiceStatus.PAID, {"paid_at": now}
    elif invoice.status == InvoiceStatus.PAID and balance > 0:
        target, kind, fields = InvoiceStatus.OPEN, "reopened", {"paid_at": None}
    else:
        return invoice.status
    fields |= {"status": target, "updated_at": now}
    if Invoice.objects.filter(pk=invoice.pk, status=invoice.status).update(**fields) != 1:
        raise ValidationError(_("This invoice changed meanwhile; reload and try again."))
    before = invoice.status
    for name, value in fields.items():
        setattr(invoice, name, value)
    invoice_change_record(
        invoice,
        kind=kind,
        actor=actor,
        event=events.INVOICE_CHANGES[kind],
        from_status=before,
        to_status=target,
        via=via,
    )
    return target


def credit_spend(*, account: Account, invoice: Invoice, up_to: Decimal, actor) -> Decimal:
    """Move up to `up_to` of the account's credit in the invoice's currency onto the invoice's bucket. Returns the
    amount moved (zero when there is no credit)."""
    account_lock(account, invoice.currency)
    amount = min(credit_available(account, invoice.currency), up_to)
    if amount <= 0:
        return Decimal(0)
    ledger_post(
        account=account,
        currency=invoice.currency,
        actor=actor,
        legs=[Leg(EntryKind.CREDIT_APPLIED, -amount, invoice), Leg(EntryKind.CREDIT_APPLIED, amount, None)],
    )
    event_emit(
        name=events.CUSTOMER_CREDIT_APPLIED,
        payload={
            "account": account.key,
            "currency": invoice.currency,
            "amount": f"{amount:f}",
            "invoice_id": invoice.pk,
        },
    )
    return amount


def credit_apply(*, invoice: Invoice, actor) -> Decimal:
    """Spend the customer's credit on an open invoice's balance (inside the caller's transaction, the invoice
    locked). Returns the amount applied."""
    if invoice.status != InvoiceStatus.OPEN:
        return Decimal(0)
    return credit_spend(
        account=invoice_account_required(invoice), invoice=invoice, up_to=invoice_bucket_balance(invoice), actor=actor
    )


def customer_credit_add(*, account: Account, currency: str, amount: Decimal, reason: str, actor) -> ReceivableEntry:
    """Grant a customer credit by hand (a goodwill gesture, a settlement). The reason is required: it is what an
    auditor reads."""
    errors: dict[str, list[str]] = {}
    try:
        amount = Decimal(amount)
    except (ArithmeticError, TypeError, ValueError):
        amount = Decimal("NaN")
    currency_known = bool(currency) and is_currency(currency, locale="en")
    if not currency_known:
        errors["currency"] = [_("Choose a currency.")]
    if amount_error := money_amount_error(amount, currency if currency_known else None):
        errors["amount"] = [amount_error]
    if not reason.strip():
        errors["reason"] = [_("Say why the customer gets this credit.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        (entry,) = ledger_post(
            account=account,
            currency=currency,
            actor=actor,
            legs=[Leg(EntryKind.CREDIT_ADDED, -amount, None)],
            memo=reason.strip(),
        )
        event_emit(
            name=events.CUSTOMER_CREDIT_ADDED,
            payload={"account": account.key, "currency": currency, "amount": f"{amount:f}", "entry_id": entry.pk},
        )
    return entry
