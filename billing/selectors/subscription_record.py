"""The subscription record page: details, the upcoming invoice (the billing run's own preview, rendered by the
invoice document partial), past invoices with what was paid and is due (the receivables ledger's one definition),
their payments, the timeline, and which actions its state allows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import editor, pricing
from billing.models import Invoice, InvoicePayment, LineItem, Subscription, SubscriptionEvent, SubscriptionStatus
from billing.models.choices import Frequency
from billing.selectors.receivables import DISPLAY_STATUS_LABELS, figures_of, with_figures
from billing.selectors.subscriptions import STATUS_BADGES

_L = gettext_lazy
PAST_INVOICES = 24
TIMELINE = 50
LIVE = (SubscriptionStatus.SCHEDULED, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE, SubscriptionStatus.PAUSED)

EVENT_LABELS = {
    "created": _L("Created"),
    "billed": _L("Invoice issued"),
    "paused": _L("Paused"),
    "resumed": _L("Resumed"),
    "canceled": _L("Canceled"),
    "cancel_scheduled": _L("Set to cancel at the end of the period"),
    "cancel_unscheduled": _L("No longer cancels at the end of the period"),
    "changed": _L("Items changed"),
    "coupon_applied": _L("Coupon applied"),
    "coupon_removed": _L("Coupon removed"),
    "ended": _L("Ended"),
    "charge_failed": _L("Charge failed"),
    "recovered": _L("Payment recovered"),
    "past_due": _L("Past due"),
    "time_simulated": _L("Time simulated"),
    "clock_advanced": _L("Time simulated"),
    "trial_reminder": _L("Trial reminder sent"),
}

# Extra panels other apps add to the record page (payments can show its charges, say): fn(subscription) -> context or
# None, rendered with its template. Billing never imports payments; payments registers here.
_panels: list[tuple[int, str, Callable]] = []


def subscription_panel_register(*, template: str, context_fn: Callable, order: int = 50) -> None:
    if not any(t == template for _o, t, _f in _panels):
        _panels.append((order, template, context_fn))
        _panels.sort(key=lambda p: p[0])


def subscription_panels(subscription: Subscription) -> list[tuple[str, dict]]:
    shown = []
    for _order, template, fn in _panels:
        context = fn(subscription)
        if context is not None:
            shown.append((template, context))
    return shown


def event_label(kind: str) -> str:
    return str(EVENT_LABELS.get(kind, kind.replace("_", " ").capitalize()))


@dataclass
class SubscriptionPage:
    subscription: Subscription
    status_label: str
    badge: str
    frequency_label: str
    lines: list[LineItem]
    summary: pricing.DocumentSummary | None
    trialing: bool
    upcoming: object | None  # billing.subscription_invoices.SubscriptionInvoicePreview
    upcoming_document: dict | None
    upcoming_problem: str
    invoices: list[Invoice]
    checkout_invoice_id: int | None
    payments: list[InvoicePayment]
    events: list[SubscriptionEvent]
    panels: list[tuple[str, dict]] = field(default_factory=list)
    preview_available: bool = False

    @property
    def line_rows(self) -> list[tuple[LineItem, Decimal | None]]:
        nets = [result.net for result in self.summary.lines] if self.summary else [None] * len(self.lines)
        return list(zip(self.lines, nets, strict=True))


def _upcoming(subscription: Subscription, today: date) -> tuple[bool, object | None, dict | None, str]:
    try:
        from billing.subscription_invoices import subscription_invoice_preview
    except ImportError:  # the billing run's preview has not landed yet
        return False, None, None, ""
    from billing.selectors.invoices import document_for_display

    try:
        preview = subscription_invoice_preview(subscription=subscription, on=today)
    except pricing.PricingError as exc:
        return True, None, None, _("The next invoice cannot be priced: %(reason)s") % {"reason": exc}
    if preview is None:
        return True, None, None, ""
    document = document_for_display(preview.document)
    document["number"] = _("Not issued yet")
    return True, preview, document, ""


def _checkout_invoice_id(subscription: Subscription) -> int | None:
    """The payment link purchase's invoice that paid the subscription's first period (none with a trial: then the
    purchase paid only its one-time lines)."""
    if subscription.source_purchase_id and subscription.trial_end is None:
        return subscription.source_purchase.invoice_id
    return None


def subscription_page(subscription: Subscription, *, today: date | None = None) -> SubscriptionPage:
    today = today or timezone.localdate()
    lines = list(
        LineItem.objects.filter(subscription=subscription).select_related("tax_rate").order_by("position", "id")
    )
    try:
        summary = editor.summary(lines, [], currency=subscription.currency) if lines else None
    except pricing.PricingError:
        summary = None
    # The invoices billed for the subscription, and the purchase's invoice that paid its first period (it may carry
    # one-time lines too, so it belongs to the purchase, not to the subscription).
    checkout_invoice_id = _checkout_invoice_id(subscription)
    billed = Q(subscription=subscription) | Q(pk=checkout_invoice_id or 0)
    invoices = list(
        with_figures(Invoice.objects.filter(billed), today=today).order_by("-issue_date", "-created_at", "-id")[
            :PAST_INVOICES
        ]
    )
    for invoice in invoices:
        invoice.figures = figures_of(invoice)
        invoice.status_label = DISPLAY_STATUS_LABELS.get(invoice.display_status, invoice.display_status)
    payments = list(
        InvoicePayment.objects.filter(Q(invoice__subscription=subscription) | Q(invoice_id=checkout_invoice_id or 0))
        .select_related("invoice")
        .order_by("-paid_on", "-id")[:PAST_INVOICES]
    )
    events = list(
        SubscriptionEvent.objects.filter(subscription=subscription)
        .select_related("actor")
        .order_by("-at", "-id")[:TIMELINE]
    )
    for event in events:
        event.label = event_label(event.kind)
    available, upcoming, document, problem = _upcoming(subscription, today)
    return SubscriptionPage(
        subscription=subscription,
        status_label=str(SubscriptionStatus(subscription.status).label),
        badge=STATUS_BADGES.get(subscription.status, "badge-muted"),
        frequency_label=str(Frequency(subscription.frequency).label),
        lines=lines,
        summary=summary,
        trialing=bool(subscription.trial_end and subscription.trial_end > today and subscription.status in LIVE),
        upcoming=upcoming,
        upcoming_document=document,
        upcoming_problem=problem,
        invoices=invoices,
        checkout_invoice_id=checkout_invoice_id,
        payments=payments,
        events=events,
        panels=subscription_panels(subscription),
        preview_available=available,
    )


def subscription_lines_locked_reason(subscription) -> str:
    """The shared editor edits a subscription's items until its first invoice; after that a change goes through
    Change items, which shows and books the proration first (never silently)."""
    if subscription.status in (SubscriptionStatus.CANCELED, SubscriptionStatus.ENDED):
        return _("A canceled or ended subscription cannot change.")
    if subscription.periods_billed or subscription.current_period_start is not None:
        return _(
            "This subscription has been billed: change its items with Change items, which shows the proration first."
        )
    return ""


def subscription_actions(subscription: Subscription, *, user, test_mode: bool) -> dict:
    """Which buttons the record page shows, by state and permission."""
    manage = user.has_perm("accounts.manage_subscriptions")
    status = subscription.status
    live = status in LIVE
    return {
        "can_manage": manage,
        "can_pause": manage and status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE),
        "can_resume": manage and status == SubscriptionStatus.PAUSED,
        "can_cancel": manage and live,
        "can_cancel_at_period_end": manage
        and status in (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE, SubscriptionStatus.SCHEDULED)
        and not subscription.cancel_at_period_end,
        "can_undo_cancel": manage and live and subscription.cancel_at_period_end,
        "can_change": manage and live,
        "can_edit_lines": manage and not subscription_lines_locked_reason(subscription),
        "can_coupon": manage and live,
        "can_simulate": test_mode and user.has_perm("accounts.manage_settings") and live,
    }


def period_amount(subscription: Subscription) -> Decimal | None:
    lines = list(LineItem.objects.filter(subscription=subscription).select_related("tax_rate"))
    try:
        return editor.summary(lines, [], currency=subscription.currency).total if lines else Decimal(0)
    except pricing.PricingError:
        return None
