"""Reads of a quote's payment: the payment section of the rep's record page (schedule, checkout invoice,
installment invoices, subscriptions) and what the buyer's Pay button shows. Amounts come from the pricing engine
through the same plan the checkout bills (billing.quote_payment_plan.checkout_plan)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from billing import pricing
from billing.models import Invoice, Quote, QuoteInstallment
from billing.quote_payment_plan import (
    checkout_plan,
    line_start_date,
    quote_checkout_problems,
    quote_installment_amounts,
    quote_pricing,
)
from billing.selectors.invoices import STATUS_BADGES, status_label
from billing.selectors.receivables import with_figures
from billing.selectors.subscriptions import SubscriptionRow, quote_subscription_rows


@dataclass
class InstallmentRow:
    installment: QuoteInstallment
    amount: Decimal | None
    invoice: Invoice | None  # with_figures: balance_due, display_status


@dataclass
class PaymentSection:
    quote: Quote
    enabled: bool
    currency: str
    installments: list[InstallmentRow] = field(default_factory=list)
    schedule_problem: str = ""
    due_at_checkout: Decimal | None = None
    starts_later: list[tuple[str, date]] = field(default_factory=list)  # (line name, start date if paid today)
    checkout_invoice: Invoice | None = None
    other_invoices: list[Invoice] = field(default_factory=list)
    subscriptions: list[SubscriptionRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _invoices(ids: list[int]) -> dict[int, Invoice]:
    if not ids:
        return {}
    rows = with_figures(Invoice.objects.filter(pk__in=ids).defer("snapshot"))
    shown = {}
    for row in rows:
        row.status_text = status_label(row.display_status)
        row.badge = STATUS_BADGES.get(row.display_status, "")
        shown[row.pk] = row
    return shown


def quote_payment_section(quote: Quote) -> PaymentSection:
    """Everything the record page's payment section shows, in a handful of queries."""
    section = PaymentSection(quote=quote, enabled=quote.payment_enabled, currency=quote.currency)
    stored = list(QuoteInstallment.objects.filter(quote=quote).order_by("position", "id"))
    today = timezone.localdate()
    try:
        priced = quote_pricing(quote)
    except pricing.PricingError:
        priced = None
    amounts: list[Decimal | None] = [None] * len(stored)
    if stored and priced is not None:
        try:
            amounts = list(quote_installment_amounts(quote, priced=priced))
        except ValidationError as exc:
            section.schedule_problem = " ".join(exc.messages)
    invoice_ids = [i.invoice_id for i in stored if i.invoice_id]
    if quote.checkout_invoice_id:
        invoice_ids.append(quote.checkout_invoice_id)
    invoices = _invoices(invoice_ids)
    section.installments = [
        InstallmentRow(installment, amount, invoices.get(installment.invoice_id))
        for installment, amount in zip(stored, amounts, strict=True)
    ]
    section.checkout_invoice = invoices.get(quote.checkout_invoice_id)
    section.other_invoices = [
        invoices[i.invoice_id] for i in stored[1:] if i.invoice_id and i.invoice_id != quote.checkout_invoice_id
    ]
    if priced is not None and section.checkout_invoice is None:
        try:
            plan = checkout_plan(quote, on=today, priced=priced)
            section.due_at_checkout = plan.total
            section.starts_later = [(line.name, line_start_date(line, checkout=today)) for line in plan.due_later]
        except (pricing.PricingError, ValidationError):
            pass
    section.subscriptions = quote_subscription_rows(quote)
    if quote.payment_enabled and quote.is_editable:
        section.problems = quote_checkout_problems(quote, today=today)
    return section
