"""What a quote's payment bills, computed and never written: when each line starts billing, the payment schedule's
amounts and the invoice lines of an installment, what the checkout invoice bills, and what stands in the way of
paying. The services (billing.services.quote_checkout, quote_schedule, subscriptions) write with it; the pages and
the publishing check read it (selectors may import it: it imports no service).

Money comes from the pricing engine (billing.pricing, through billing.editor) and billing.installments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from billing import editor, installments, pricing
from billing.models import (
    DocumentAdjustment,
    LineItem,
    Quote,
    QuoteInstallment,
    QuotePublication,
    QuoteSigner,
    QuoteStatus,
)
from billing.models.choices import BillingStart, Frequency
from billing.models.quotes import LIVE_STATUSES
from billing.quote_documents import quote_adjustments, quote_lines

# --- when lines start billing -----------------------------------------------------------------------------------------


def line_start_date(line: LineItem, *, checkout: date) -> date:
    """When a line starts billing when the buyer checks out on `checkout`."""
    delay = line.billing_start_delay or 0
    if line.billing_start == BillingStart.DATE and line.billing_start_date is not None:
        return line.billing_start_date
    if line.billing_start == BillingStart.DELAY_DAYS:
        return checkout + timedelta(days=delay)
    if line.billing_start == BillingStart.DELAY_MONTHS:
        return checkout + relativedelta(months=delay)
    return checkout


def line_due_at_checkout(line: LineItem, *, checkout: date) -> bool:
    """Whether the line is billed by the checkout on `checkout`: every one-time line, and the first period of each
    recurring line whose billing starts then (or started before: a custom date that has passed)."""
    if line.frequency == Frequency.ONE_TIME:
        return True
    return line_start_date(line, checkout=checkout) <= checkout


def line_starts_later(line: LineItem, *, today: date) -> bool:
    """A line whose billing starts after checking out today (a future custom date, or a delay)."""
    return line_start_date(line, checkout=today) > today


# --- the payment schedule ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceColumn:
    """One line of every installment invoice: a VAT group of the quote (its tax rate and label), or the part of the
    total outside VAT (the one-time fees and taxes)."""

    column: installments.Column
    tax_rate: object  # billing.models.TaxRate | None
    label: str


@dataclass(frozen=True)
class QuotePricing:
    lines: list[LineItem]
    adjustments: list[DocumentAdjustment]
    summary: pricing.DocumentSummary


def quote_pricing(quote: Quote) -> QuotePricing:
    """The quote's lines, adjustments and the engine's summary of them (raises pricing.PricingError)."""
    lines, adjustments = quote_lines(quote), quote_adjustments(quote)
    return QuotePricing(lines, adjustments, editor.summary(lines, adjustments, currency=quote.currency))


def invoice_columns(priced: QuotePricing) -> list[InvoiceColumn]:
    """The quote's total as the parts an installment invoice bills on lines of their own, largest first."""
    return [
        InvoiceColumn(
            column,
            priced.lines[group.line_indexes[0]].tax_rate if group else None,
            group.label if group else "",
        )
        for column, group in installments.summary_columns(priced.summary)
    ]


def schedule_line_problems(lines: list[LineItem], *, today: date | None = None) -> list[str]:
    """Why these lines cannot be paid in installments: a schedule splits a one-time total only."""
    today = today or timezone.localdate()
    problems = []
    recurring = [line.name for line in lines if line.frequency != Frequency.ONE_TIME]
    if recurring:
        problems.append(
            _("Payment schedules are for one-time totals only, and this quote has recurring line items (%(names)s).")
            % {"names": ", ".join(recurring[:5])}
        )
    later = [
        line.name for line in lines if line.frequency == Frequency.ONE_TIME and line_starts_later(line, today=today)
    ]
    if later:
        problems.append(
            _(
                "Payment schedules are refused while line items start billing later (%(names)s): "
                "make them start at checkout."
            )
            % {"names": ", ".join(later[:5])}
        )
    return problems


def _rows(items) -> list[installments.Row]:
    return [installments.Row(percent=item.percent, amount=item.amount) for item in items]


def quote_installment_amounts(quote: Quote, *, priced: QuotePricing | None = None) -> list[Decimal]:
    """What each stored installment of the quote comes to now (empty without a schedule). Raises ValidationError
    when the schedule no longer fits the quote (its lines changed since), pricing.PricingError when a line cannot
    be priced."""
    stored = list(QuoteInstallment.objects.filter(quote=quote).order_by("position", "id"))
    if not stored:
        return []
    priced = priced or quote_pricing(quote)
    columns = [c.column for c in invoice_columns(priced)]
    try:
        return installments.schedule_amounts(priced.summary.total, _rows(stored), columns, quote.currency)
    except installments.ScheduleError as exc:
        raise ValidationError([message for _row, _field, message in exc.errors]) from exc


def installment_invoice_lines(
    quote: Quote, *, amount: Decimal, name: str, priced: QuotePricing | None = None
) -> list[LineItem]:
    """The lines (unsaved) of the invoice for an installment of `amount`: one per VAT rate of the quote at that
    rate's share, and one outside VAT for the fees' and taxes' share; together with their VAT they come to `amount`
    exactly (the engine prices the invoice; billing.installments chose the nets so that it does)."""
    priced = priced or quote_pricing(quote)
    columns = invoice_columns(priced)
    nets = installments.split(amount, [c.column for c in columns], quote.currency)
    if nets is None:
        raise ValidationError(_("%(name)s cannot be invoiced to the cent: edit the payment schedule.") % {"name": name})
    with override(quote.language):
        base = _("%(name)s of quote %(number)s") % {"name": name, "number": quote.number or quote.title}
        outside = _("fees and taxes outside VAT")
        lines = []
        for position, (column, net) in enumerate(zip(columns, nets, strict=True)):
            if net <= 0:
                continue
            label = column.label if column.tax_rate is not None else outside
            title = f"{base} ({label})" if len(columns) > 1 and label else base
            lines.append(
                LineItem(
                    position=position,
                    name=title[:200],
                    description=quote.title,
                    quantity=Decimal(1),
                    unit_price=net,
                    currency=quote.currency,
                    tax_rate=column.tax_rate,
                )
            )
    return lines


# --- what is due at checkout ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckoutPlan:
    """What the checkout invoice bills, and what the engine says it comes to."""

    lines: list[LineItem]  # unsaved copies or the quote's own lines, as the invoice will hold them
    adjustments: list
    total: Decimal
    installment: QuoteInstallment | None  # the first installment, when the quote has a schedule
    due_later: list[LineItem]  # recurring lines that start after checkout


def _installments(quote: Quote) -> list[QuoteInstallment]:
    return list(QuoteInstallment.objects.filter(quote=quote).order_by("position", "id"))


def checkout_plan(quote: Quote, *, on: date | None = None, priced: QuotePricing | None = None) -> CheckoutPlan:
    """What the quote's checkout on `on` (today) bills. Raises pricing.PricingError or ValidationError (a schedule
    that no longer fits the quote)."""
    on = on or timezone.localdate()
    priced = priced or quote_pricing(quote)
    stored = _installments(quote)
    if stored:
        amount = quote_installment_amounts(quote, priced=priced)[0]
        lines = installment_invoice_lines(quote, amount=amount, name=stored[0].name, priced=priced)
        return CheckoutPlan(lines, [], amount, stored[0], [])
    due = [line for line in priced.lines if line_due_at_checkout(line, checkout=on)]
    later = [line for line in priced.lines if not line_due_at_checkout(line, checkout=on)]
    total = editor.summary(due, priced.adjustments, currency=quote.currency).total if due else Decimal(0)
    return CheckoutPlan(due, priced.adjustments, total, None, later)


def quote_checkout_problems(quote: Quote, *, today: date | None = None, dates: bool = True) -> list[str]:
    """Why the quote's checkout could not bill it as it stands (empty: it can): the publishing check of a quote that
    collects payment. A quote that collects no payment has none. `dates`: also refuse installments due today or
    before (publishing; the checkout itself bills them as due at once)."""
    if not quote.payment_enabled:
        return []
    today = today or timezone.localdate()
    try:
        priced = quote_pricing(quote)
    except pricing.PricingError:
        return []  # the builder's own check names the line that cannot be priced
    if not priced.lines:
        return []
    problems = []
    stored = _installments(quote)
    if stored:
        problems += schedule_line_problems(priced.lines, today=today)
        if not problems:
            try:
                quote_installment_amounts(quote, priced=priced)
            except ValidationError as exc:
                problems += [
                    _("The payment schedule no longer fits the quote: %(reason)s") % {"reason": message}
                    for message in exc.messages
                ]
        for installment in stored[1:] if dates else ():
            if installment.due_date is not None and installment.due_date <= today:
                problems.append(
                    _("Installment “%(name)s” was due on %(date)s: choose a later date in the payment schedule.")
                    % {"name": installment.name, "date": installment.due_date.isoformat()}
                )
        return problems
    due = [line for line in priced.lines if line_due_at_checkout(line, checkout=today)]
    if not due:
        problems.append(_("At least one line must be due at checkout when others start later."))
        return problems
    try:
        total = editor.summary(due, priced.adjustments, currency=quote.currency).total
    except pricing.PricingError as exc:
        problems.append(_("What is due at checkout cannot be priced: %(reason)s") % {"reason": exc})
        return problems
    if total <= 0:
        problems.append(_("Nothing is due at checkout: the lines due then come to zero."))
    return problems


def quote_payable_problem(quote: Quote, publication: QuotePublication, *, today: date | None = None) -> str:
    """Why the buyer cannot pay this publication of the quote now ("" when they can)."""
    today = today or timezone.localdate()
    if publication.quote_id != quote.pk or quote.publication_id != publication.pk or publication.replaced_at:
        return _("This version of the quote was replaced by a newer one.")
    if not quote.payment_enabled:
        return _("This quote is not paid online.")
    if quote.status == QuoteStatus.PAID:
        return _("This quote has been paid. Thank you!")
    if quote.status == QuoteStatus.EXPIRED or quote.expires_on < today:
        return _("This quote has expired.")
    if quote.status not in LIVE_STATUSES:
        return _("This quote cannot be paid in its current state.")
    if quote.signature_required:
        signers = QuoteSigner.objects.filter(publication=publication)
        if not signers.exists() or signers.filter(signed_at__isnull=True).exists():
            return _("Everyone must sign the quote before it can be paid.")
    return ""
