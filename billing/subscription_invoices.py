"""What a subscription's invoice for one period holds: no writes here, the billing run and the record page share it.

Lines
    The subscription's own lines (LineItem rows with subscription=...), each priced by the pricing engine for one
    period (recurring amounts are per period). A line whose own term is over (term_months / term_weeks counted in
    periods billed, across pauses) is no longer billed; the subscription ends when its longest line's term is.

Coupons
    A coupon becomes a discount in the invoice's summary: the pricing engine's one-time document adjustment, a
    percentage of the subtotal, or an amount off (only in the coupon's own currency, and never more than the
    subtotal). A coupon for a number of periods counts down `coupon_periods_left` once per billed period; none
    left means full price again. `coupon_periods_left` None with a coupon means forever.

MRR
    subscription_mrr() is the pricing engine's MRR of the lines still billed, after a forever coupon (a coupon that
    runs out is not recurring revenue): Subscription.mrr keeps it, so revenue reports sum a column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from billing import documents, editor, pricing
from billing.billing_calendar import billing_date
from billing.models import (
    CollectionMethod,
    Coupon,
    CouponDuration,
    DocumentAdjustment,
    LineItem,
    Subscription,
    SubscriptionStatus,
)
from billing.models.choices import AdjustmentKind
from commerce_hub.organization.selectors import organization_profile_get

# Statuses whose next period is billed when its date comes.
BILLABLE_STATUSES = (SubscriptionStatus.SCHEDULED, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)


@dataclass(frozen=True)
class PeriodContent:
    """One period's invoice, priced: the lines billed (the subscription's own rows; copy them onto the invoice),
    the coupon's discount as document adjustments, and the engine's summary."""

    index: int  # the period number counted from the billing anchor
    period_start: date
    period_end: date
    billing_date: date
    lines: tuple[LineItem, ...]
    adjustments: tuple[DocumentAdjustment, ...]  # unsaved; the billing run sets invoice= on them
    summary: pricing.DocumentSummary
    coupon_applied: bool


def subscription_lines(subscription: Subscription) -> list[LineItem]:
    return list(
        LineItem.objects.filter(subscription=subscription).select_related("tax_rate").order_by("position", "id")
    )


def period_date(subscription: Subscription, index: int) -> date:
    """The first day of period `index`, counted from the subscription's billing anchor and anchor day."""
    return billing_date(
        start=subscription.billing_anchor,
        frequency=subscription.frequency,
        periods=index,
        anchor_day=subscription.anchor_day,
    )


def period_bounds_of(subscription: Subscription, index: int) -> tuple[date, date]:
    """The first and last day of period `index`, counted from the subscription's billing anchor and anchor day."""
    return period_date(subscription, index), period_date(subscription, index + 1) - timedelta(days=1)


def line_billed_in(line: LineItem, *, frequency: str, periods_billed_before: int) -> bool:
    """Whether the line bills in the period after `periods_billed_before` billed ones: a line with a term bills
    term / period length periods, then stops."""
    rule = pricing.frequency_rule(frequency)
    term = line.term_weeks if rule.term_unit == "weeks" else line.term_months
    if term is None:
        return True
    return periods_billed_before < max(1, term // rule.period_length)


def coupon_adjustment(coupon: Coupon | None, *, currency: str, subtotal: Decimal) -> DocumentAdjustment | None:
    """The coupon as a discount in the invoice's summary, or None when it takes nothing off this invoice (an
    amount off in another currency, or nothing to discount)."""
    if coupon is None or subtotal <= 0:
        return None
    if coupon.percent_off is not None:
        return DocumentAdjustment(kind=AdjustmentKind.DISCOUNT, label=coupon.name, percent=coupon.percent_off)
    if coupon.amount_off is None or coupon.currency != currency:
        return None
    # The engine refuses a discount above the subtotal: an amount off larger than one invoice takes it to zero.
    return DocumentAdjustment(kind=AdjustmentKind.DISCOUNT, label=coupon.name, amount=min(coupon.amount_off, subtotal))


_PRICED: dict[tuple, pricing.DocumentSummary] = {}
_PRICED_MAX = 4096


def priced(
    lines: Sequence[LineItem], adjustments: Sequence[DocumentAdjustment], *, currency: str
) -> pricing.DocumentSummary:
    """editor.summary, remembered for identical inputs: a billing batch prices the same plan for many subscriptions,
    and the engine's answer depends on nothing but its inputs (immutable values in, an immutable summary out). The
    key is the inputs' repr, not their equality: Decimal("20") == Decimal("20.0000"), but the summary carries the
    inputs and the document prints them as given."""
    line_inputs = tuple(editor.line_input(line) for line in lines)
    adjustment_inputs = tuple(editor.adjustment_input(adjustment) for adjustment in adjustments)
    key = (repr(line_inputs), repr(adjustment_inputs), currency)
    summary = _PRICED.get(key)
    if summary is None:
        summary = pricing.document_summary(line_inputs, adjustment_inputs, currency=currency)
        if len(_PRICED) >= _PRICED_MAX:
            _PRICED.clear()
        _PRICED[key] = summary
    return summary


def coupon_active(subscription: Subscription, coupon_periods_left: int | None) -> bool:
    if subscription.coupon_id is None:
        return False
    return coupon_periods_left is None or coupon_periods_left > 0


def period_content(
    subscription: Subscription,
    *,
    lines: Sequence[LineItem],
    index: int,
    periods_billed_before: int,
    coupon_periods_left: int | None,
) -> PeriodContent | None:
    """Period `index`'s invoice content, priced; None when no line bills in it (every line's term is over).

    `periods_billed_before` and `coupon_periods_left` are the counts before this period: the billing run passes
    them as it advances through missed periods one after another."""
    billed = tuple(
        line
        for line in lines
        if line_billed_in(line, frequency=subscription.frequency, periods_billed_before=periods_billed_before)
    )
    if not billed:
        return None
    start, end = period_bounds_of(subscription, index)
    adjustments: tuple[DocumentAdjustment, ...] = ()
    summary = priced(billed, [], currency=subscription.currency)
    if coupon_active(subscription, coupon_periods_left):
        adjustment = coupon_adjustment(subscription.coupon, currency=subscription.currency, subtotal=summary.subtotal)
        if adjustment is not None:
            adjustments = (adjustment,)
            summary = priced(billed, adjustments, currency=subscription.currency)
    return PeriodContent(
        index=index,
        period_start=start,
        period_end=end,
        billing_date=start,
        lines=billed,
        adjustments=adjustments,
        summary=summary,
        coupon_applied=bool(adjustments),
    )


# --- the printed document ---------------------------------------------------------------------------------------------


def subscription_language(subscription: Subscription) -> str:
    if subscription.company_id is not None:
        return subscription.company.language
    if subscription.contact_id is not None:
        return subscription.contact.language
    return organization_profile_get().language or "en"


def subscription_terms_days(subscription: Subscription) -> int:
    """Charged automatically, the invoice is due when issued; sent, it gets the subscription's payment terms."""
    if subscription.collection_method == CollectionMethod.CHARGE_AUTOMATICALLY and subscription.payment_method_ref:
        return 0
    return subscription.payment_terms_days


def buyer_snapshot(subscription: Subscription) -> dict:
    """The buyer as the invoice prints it (the same keys as billing.documents' buyer)."""
    company, contact = subscription.company, subscription.contact
    return {
        "name": company.name if company else (contact.full_name if contact else ""),
        "attention": contact.full_name if company and contact else "",
        "address_line1": company.address_line1 if company else "",
        "postal_code": company.postal_code if company else "",
        "city": company.city if company else "",
        "country": company.country if company else "",
        "vat_number": company.vat_number if company else "",
        "registration_number": company.registration_number if company else "",
        "emails": [contact.email] if contact and contact.email else [],
    }


@dataclass(frozen=True)
class DocumentContext:
    """What every invoice of one billing batch shares: read once per batch, not once per invoice."""

    settings: object  # InvoiceSettings
    seller: dict
    logo_path: str

    @classmethod
    def load(cls, *, freeze_logo: bool) -> DocumentContext:
        return cls(
            settings=documents.invoice_settings_get(),
            seller=documents.seller_snapshot(),
            logo_path=documents.logo_freeze() if freeze_logo else documents.current_logo_path(),
        )


def period_document(
    subscription: Subscription,
    content: PeriodContent,
    *,
    issue_date: date,
    context: DocumentContext,
    number: str | None = None,
) -> dict:
    """The invoice document (billing.documents.invoice_document's keys, plus the subscription and its period) of
    one period: what the billing run freezes as the invoice's snapshot, and what the preview shows."""
    settings = context.settings
    terms = subscription_terms_days(subscription)
    return {
        "kind": "invoice",
        "number": number,
        "currency": subscription.currency,
        "language": subscription_language(subscription),
        "issue_date": issue_date.isoformat(),
        "due_date": (issue_date + timedelta(days=terms)).isoformat(),
        "payment_terms_days": terms,
        "payment_methods": list(settings.payment_methods),
        "seller": context.seller,
        "buyer": buyer_snapshot(subscription),
        **documents.document_figures(list(content.lines), content.summary),
        "bank": {"holder": settings.bank_account_holder, "iban": settings.iban, "bic": settings.bic},
        "comments": "",
        "footer": settings.footer_text,
        "legal_text": settings.legal_text,
        "logo_path": context.logo_path,
        "late_fee_for": None,
        "subscription": {
            "id": subscription.pk,
            "name": subscription.name,
            "frequency": subscription.frequency,
            "period_start": content.period_start.isoformat(),
            "period_end": content.period_end.isoformat(),
        },
    }


# --- the upcoming invoice ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionInvoicePreview:
    """The next invoice of a subscription, as the billing run will make it (no number yet).

    Render it with the invoice document partial, through the same display step as a finalized invoice:

        from billing.selectors.invoices import document_for_display
        {"upcoming": preview, "document": document_for_display(preview.document)}
        {% include "billing/invoices/_document.html" with document=document %}

    and the period above it: preview.period_start, preview.period_end (dates), preview.billing_date (the date it is
    issued and, charged automatically, collected). preview.summary is the pricing engine's DocumentSummary (Decimal
    totals: summary.total, summary.subtotal, summary.vat_total); preview.lines are the subscription's lines it
    bills; preview.adjustments the coupon's discount, if any; preview.coupon_applied says so.
    """

    subscription_id: int
    index: int
    period_start: date
    period_end: date
    billing_date: date
    currency: str
    lines: tuple[LineItem, ...]
    adjustments: tuple[DocumentAdjustment, ...]
    summary: pricing.DocumentSummary
    coupon_applied: bool
    document: dict

    @property
    def total(self) -> Decimal:
        return self.summary.total


def next_period_state(subscription: Subscription, *, on: date) -> tuple[int, int, int | None] | None:
    """(period index, periods billed before it, coupon periods left) of the next invoice, or None when none comes:
    canceled, ended, paused without a date to resume, canceling at the period's end, or the term is over."""
    status = subscription.status
    if status in (SubscriptionStatus.CANCELED, SubscriptionStatus.ENDED):
        return None
    if subscription.cancel_at_period_end:
        return None
    if subscription.term_periods is not None and subscription.periods_billed >= subscription.term_periods:
        return None
    if status == SubscriptionStatus.PAUSED and subscription.resume_on is None:
        return None
    return subscription.next_period_index, subscription.periods_billed, subscription.coupon_periods_left


def resumed_view(subscription: Subscription) -> Subscription:
    """A paused subscription with a date to resume as it will stand that day (an unsaved copy): when its last
    billed period is over by then, periods count again from the day it resumes; otherwise nothing moves."""
    if subscription.status != SubscriptionStatus.PAUSED or subscription.resume_on is None:
        return subscription
    if subscription.next_billing_date >= subscription.resume_on:
        return subscription
    view = Subscription(**{f.attname: getattr(subscription, f.attname) for f in Subscription._meta.concrete_fields})
    view.billing_anchor = subscription.resume_on
    view.anchor_day = subscription.resume_on.day
    view.next_period_index = 0
    view.next_billing_date = subscription.resume_on
    return view


def subscription_invoice_preview(
    *, subscription: Subscription, on: date | None = None
) -> SubscriptionInvoicePreview | None:
    """The subscription's next invoice: its period, billing date, lines, coupon discount and totals, priced by the
    pricing engine exactly as the billing run will bill it. None when no invoice is coming (canceled, ended,
    canceling at the period's end, paused without a date to resume, the term over, or no line left to bill).

    `on` is the day the preview is for (today by default); the document's issue date is the billing date. Raises
    pricing.PricingError when a line cannot be priced."""
    on = on or timezone.localdate()
    view = resumed_view(subscription)
    state = next_period_state(view, on=on)
    if state is None:
        return None
    index, billed_before, coupon_left = state
    content = period_content(
        view,
        lines=subscription_lines(subscription),
        index=index,
        periods_billed_before=billed_before,
        coupon_periods_left=coupon_left,
    )
    if content is None:
        return None
    document = period_document(
        view, content, issue_date=content.billing_date, context=DocumentContext.load(freeze_logo=False)
    )
    return SubscriptionInvoicePreview(
        subscription_id=subscription.pk,
        index=content.index,
        period_start=content.period_start,
        period_end=content.period_end,
        billing_date=content.billing_date,
        currency=subscription.currency,
        lines=content.lines,
        adjustments=content.adjustments,
        summary=content.summary,
        coupon_applied=content.coupon_applied,
        document=document,
    )


# --- MRR --------------------------------------------------------------------------------------------------------------


def subscription_mrr(
    subscription: Subscription, *, lines: Sequence[LineItem] | None = None, priced: PeriodContent | None = None
) -> Decimal:
    """The subscription's monthly recurring revenue in its currency: the pricing engine's MRR of the lines it still
    bills, after a forever coupon. Zero once it is canceled or ended. `priced` is a period just priced: when the
    next period bills the same lines, its summary's MRR is the answer (adjustments never change MRR)."""
    if subscription.status in (SubscriptionStatus.CANCELED, SubscriptionStatus.ENDED):
        return pricing.round_money(0, subscription.currency)
    lines = subscription_lines(subscription) if lines is None else lines
    billed = [
        line
        for line in lines
        if line_billed_in(line, frequency=subscription.frequency, periods_billed_before=subscription.periods_billed)
    ]
    if not billed:
        return pricing.round_money(0, subscription.currency)
    coupon = subscription.coupon if subscription.coupon_id else None
    if (
        priced is not None
        and list(priced.lines) == billed
        and (coupon is None or coupon.duration != CouponDuration.FOREVER)
    ):
        return priced.summary.mrr
    summary = editor.summary(billed, [], currency=subscription.currency)
    if coupon is None or coupon.duration != CouponDuration.FOREVER:
        return summary.mrr
    adjustment = coupon_adjustment(coupon, currency=subscription.currency, subtotal=summary.subtotal)
    if adjustment is None:
        return summary.mrr
    discounted = editor.summary(billed, [adjustment], currency=subscription.currency)
    # One period's net after the coupon, as one line of the subscription's frequency: the engine turns it into MRR.
    period_net = discounted.subtotal - discounted.one_time_discount_total
    line = pricing.LineInput(
        quantity=Decimal(1),
        unit_price=period_net,
        currency=subscription.currency,
        frequency=pricing.Frequency(subscription.frequency),
    )
    return pricing.line_result(line).mrr
