"""A quote's payment schedule: its one-time total split into installments, each with a name, a percentage or an
amount, and a due date. The first installment is paid through the quote at checkout; each of the others becomes an
invoice due on its date, issued and sent when the checkout is paid (billing.services.quote_checkout).

The amounts are never stored for percentages: they follow the quote's total, computed by the pricing engine's
rounding rule, the last percentage installment taking what rounding leaves (billing.installments), so they always
add up to the total exactly. Installment invoices bill the quote's VAT split (see billing.installments).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import pricing
from billing.installments import Row, ScheduleError, schedule_amounts
from billing.models import Quote, QuoteInstallment
from billing.quote_payment_plan import invoice_columns, quote_pricing, schedule_line_problems
from billing.services.quote_records import QuoteStateError, quote_change_record, quote_status_message
from commerce_hub.money import money_amount_error

MAX_INSTALLMENTS = 24
MAX_NAME = 120
PERCENT_DECIMALS = 4  # what QuoteInstallment.percent keeps


@dataclass(frozen=True)
class InstallmentInput:
    name: str
    percent: Decimal | None = None
    amount: Decimal | None = None
    due_date: date | None = None  # none for the first: it is paid at checkout


# --- writing the schedule ---------------------------------------------------------------------------------------------


def _key(index: int, field: str) -> str:
    return f"installments[{index}].{field}"


def _row_errors(index: int, item: InstallmentInput, currency: str, errors: dict[str, list[str]]) -> None:
    def add(field: str, message: str) -> None:
        errors.setdefault(_key(index, field), []).append(message)

    name = (item.name or "").strip()
    if not name:
        add("name", _("Name the installment, for example “Deposit”."))
    elif len(name) > MAX_NAME:
        add("name", _("Keep the name under %(count)d characters.") % {"count": MAX_NAME})
    if item.percent is not None and item.amount is not None:
        add("amount", _("Enter a percentage or an amount, not both."))
    elif item.percent is None and item.amount is None:
        add("percent", _("Enter a percentage or an amount."))
    elif item.percent is not None:
        percent = _decimal(item.percent)
        if percent is None or not Decimal(0) < percent <= Decimal(100):
            add("percent", _("Enter a percentage above 0 and at most 100."))
        elif percent != percent.quantize(Decimal(1).scaleb(-PERCENT_DECIMALS)):
            add("percent", _("Use at most %(count)d decimals.") % {"count": PERCENT_DECIMALS})
    elif message := money_amount_error(item.amount, currency):
        add("amount", message)


def _decimal(value) -> Decimal | None:
    try:
        value = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return value if value.is_finite() else None


def _date_errors(items: list[InstallmentInput], today: date, errors: dict[str, list[str]]) -> None:
    previous = today
    for index, item in enumerate(items):
        if index == 0:
            if item.due_date is not None:
                errors.setdefault(_key(0, "due_date"), []).append(
                    _("The first installment is paid at checkout: leave its due date empty.")
                )
            continue
        if item.due_date is None:
            errors.setdefault(_key(index, "due_date"), []).append(_("Choose the date this installment is due."))
            continue
        if item.due_date <= today:
            errors.setdefault(_key(index, "due_date"), []).append(_("Choose a date after today."))
        elif item.due_date <= previous:
            errors.setdefault(_key(index, "due_date"), []).append(
                _("Each installment must be due after the one before it.")
            )
        previous = max(previous, item.due_date)


def _locked_editable(quote: Quote) -> Quote:
    locked = Quote.objects.select_for_update().filter(pk=quote.pk).first()
    if locked is None:
        raise QuoteStateError(_("This quote no longer exists."))
    if not locked.is_editable:
        raise QuoteStateError(quote_status_message(locked))
    return locked


@transaction.atomic
def quote_schedule_set(*, quote: Quote, installments: list[InstallmentInput], actor) -> list[QuoteInstallment]:
    """Replace the quote's payment schedule (an empty list removes it: everything is paid at checkout).

    Raises ValidationError with every problem at once, keyed "installments[i].<field>" next to the row that caused
    it, or "__all__"; QuoteStateError when the quote is no longer editable. Nothing is saved unless all is well."""
    quote = _locked_editable(quote)
    items = list(installments)
    if not items:
        removed, _count = QuoteInstallment.objects.filter(quote=quote).delete()
        if removed:
            _touch(quote, actor=actor, count=0)
        return []
    errors: dict[str, list[str]] = {}
    general = errors.setdefault("__all__", [])
    today = timezone.localdate()
    try:
        priced = quote_pricing(quote)
    except pricing.PricingError as exc:
        message = _("Some line items cannot be priced: %(reason)s") % {"reason": exc}
        raise ValidationError({"__all__": [message]}) from exc
    general += schedule_line_problems(priced.lines, today=today)
    if len(items) < 2:
        general.append(_("A schedule has at least two installments. Remove it to collect the whole total at checkout."))
    elif len(items) > MAX_INSTALLMENTS:
        general.append(_("A schedule has at most %(count)d installments.") % {"count": MAX_INSTALLMENTS})
    if priced.summary.total <= 0:
        general.append(_("The quote's total is zero: there is nothing to pay in installments."))
    for index, item in enumerate(items):
        _row_errors(index, item, quote.currency, errors)
    _date_errors(items, today, errors)
    if not any(errors.values()):
        columns = [c.column for c in invoice_columns(priced)]
        rows = [Row(percent=_decimal(i.percent), amount=_decimal(i.amount)) for i in items]
        try:
            schedule_amounts(priced.summary.total, rows, columns, quote.currency)
        except ScheduleError as exc:
            for row, field, message in exc.errors:
                errors.setdefault("__all__" if row is None else _key(row, field), []).append(message)
    errors = {key: messages for key, messages in errors.items() if messages}
    if errors:
        raise ValidationError(errors)
    QuoteInstallment.objects.filter(quote=quote).delete()
    saved = QuoteInstallment.objects.bulk_create(
        [
            QuoteInstallment(
                quote=quote,
                position=position,
                name=item.name.strip(),
                percent=_decimal(item.percent),
                amount=_decimal(item.amount),
                due_date=item.due_date if position else None,
            )
            for position, item in enumerate(items)
        ]
    )
    _touch(quote, actor=actor, count=len(saved))
    return saved


def _touch(quote: Quote, *, actor, count: int) -> None:
    quote.updated_at = timezone.now()
    quote.save(update_fields=["updated_at"])
    quote_change_record(quote, kind="schedule_changed", actor=actor, installments=count)
