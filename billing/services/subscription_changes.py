"""Changes to a subscription by staff: pause and resume, cancel now or at the period's end (and undo that), change
its items with proration, apply or remove a coupon.

Each change is a guarded transition: a conditional UPDATE on the states it may start from must touch exactly one
row, so two tabs (or a change racing the billing run) cannot both apply; the loser is told the subscription changed
meanwhile. Each appends a SubscriptionEvent (who, from, to, what), writes the audit log and emits its domain event,
in the one transaction of the change.

Proration (billing/proration.py does the arithmetic): a change inside a billed period credits the unused part of
the old lines to the customer's account (customer credit in the receivables ledger) and charges the rest of the
period at the new lines on an invoice finalized now. Finalizing spends the customer's credit first when the tenant
applies credit automatically, so an increase costs only the difference and a decrease leaves credit for the next
invoice. That invoice belongs to the subscription without a period start (the billing run's one-invoice-per-period
constraint is about its period invoices, and NULL never collides).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from billing import editor, events, pricing, proration
from billing.models import (
    Coupon,
    CouponDuration,
    DocumentAdjustment,
    Invoice,
    InvoiceStatus,
    LineItem,
    Product,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
)
from billing.models.choices import AdjustmentKind
from billing.selectors.receivables import Account
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.services import event_emit

# States a subscription can still change from; canceled and ended ones are history.
LIVE = (SubscriptionStatus.SCHEDULED, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE, SubscriptionStatus.PAUSED)
PAUSABLE = (SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE)
MAX_QUANTITY = Decimal(1_000_000)
MAX_LINES = 50


def _actor(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _changed_meanwhile() -> ValidationError:
    return ValidationError(_("This subscription changed meanwhile; reload the page and try again."))


def subscription_record(
    subscription: Subscription,
    *,
    kind: str,
    actor,
    event,
    from_status: str = "",
    to_status: str = "",
    **data,
) -> SubscriptionEvent:
    """The timeline row, the audit entry and the domain event of one change (inside its transaction)."""
    entry = SubscriptionEvent.objects.create(
        subscription=subscription,
        kind=kind,
        from_status=from_status,
        to_status=to_status or from_status,
        actor=_actor(actor),
        data=data,
    )
    audit_record(
        actor=_actor(actor),
        action=f"subscription.{kind}",
        obj=subscription,
        object_repr=subscription.name,
        before={"status": from_status} if from_status else None,
        after={"status": to_status or from_status, **data},
    )
    payload = {"id": subscription.pk, **{k: v for k, v in data.items() if k in event.optional}}
    if getattr(actor, "pk", None) and "actor" in event.optional:
        payload["actor"] = actor.pk
    event_emit(name=event, payload=payload)
    return entry


def subscription_mrr_of(subscription: Subscription) -> Decimal:
    """The subscription's MRR: the billing run's definition (after a forever coupon) where it exists, else the
    pricing engine's MRR of its lines."""
    try:
        from billing.subscription_invoices import subscription_mrr
    except ImportError:  # pragma: no cover - until the billing run lands
        subscription_mrr = None
    if subscription_mrr is not None:
        return subscription_mrr(subscription)
    if subscription.status in (SubscriptionStatus.CANCELED, SubscriptionStatus.ENDED):
        return pricing.round_money(0, subscription.currency)
    lines = list(LineItem.objects.filter(subscription=subscription).select_related("tax_rate"))
    return editor.summary(lines, [], currency=subscription.currency).mrr if lines else Decimal(0)


def subscription_mrr_refresh(subscription: Subscription) -> Decimal:
    """Keep Subscription.mrr what the pricing engine says (inside the transaction of the change)."""
    mrr = max(subscription_mrr_of(subscription), Decimal(0))
    Subscription.objects.filter(pk=subscription.pk).update(mrr=mrr)
    subscription.mrr = mrr
    return mrr


def _transition(subscription: Subscription, *, allowed, where: dict | None = None, **fields) -> str:
    """UPDATE ... WHERE status IN allowed: exactly one row, or someone else changed it first. Returns the status
    it changed from (read under the row lock)."""
    now = timezone.now()
    locked = Subscription.objects.select_for_update().filter(pk=subscription.pk).first()
    if locked is None or locked.status not in allowed:
        raise _changed_meanwhile()
    updated = Subscription.objects.filter(pk=subscription.pk, status__in=allowed, **(where or {})).update(
        updated_at=now, **fields
    )
    if updated != 1:
        raise _changed_meanwhile()
    before = locked.status
    for name, value in {"updated_at": now, **fields}.items():
        setattr(subscription, name, value)
    return before


# --- pause and resume -------------------------------------------------------------------------------------------------


@transaction.atomic
def subscription_pause(
    *, subscription: Subscription, actor, resume_on: date | None = None, today: date | None = None
) -> Subscription:
    """Stop billing: no invoice is made while paused. With `resume_on` it resumes by itself that day."""
    today = today or timezone.localdate()
    if resume_on is not None and resume_on <= today:
        raise ValidationError({"resume_on": [_("Choose a day after today, or leave it empty.")]})
    if resume_on is not None and resume_on > today + timedelta(days=3 * 366):
        raise ValidationError({"resume_on": [_("Choose a day within three years.")]})
    before = _transition(
        subscription,
        allowed=PAUSABLE,
        status=SubscriptionStatus.PAUSED,
        paused_at=timezone.now(),
        resume_on=resume_on,
    )
    subscription_record(
        subscription,
        kind="paused",
        actor=actor,
        event=events.SUBSCRIPTION_PAUSED,
        from_status=before,
        to_status=SubscriptionStatus.PAUSED,
        resume_on=resume_on.isoformat() if resume_on else None,
    )
    return subscription


@transaction.atomic
def subscription_resume(*, subscription: Subscription, actor, on: date | None = None) -> Subscription:
    """Bill again from `on` (today): it becomes the new billing anchor, so the next period starts that day and
    the following ones count from it. Periods billed so far still count towards the term."""
    on = on or timezone.localdate()
    before = _transition(
        subscription,
        allowed=(SubscriptionStatus.PAUSED,),
        status=SubscriptionStatus.ACTIVE,
        paused_at=None,
        resume_on=None,
        billing_anchor=on,
        anchor_day=on.day,
        next_period_index=0,
        next_billing_date=on,
        current_period_start=None,
        current_period_end=None,
    )
    subscription_record(
        subscription,
        kind="resumed",
        actor=actor,
        event=events.SUBSCRIPTION_RESUMED,
        from_status=before,
        to_status=SubscriptionStatus.ACTIVE,
        on=on.isoformat(),
    )
    subscription_mrr_refresh(subscription)
    return subscription


# --- cancel -----------------------------------------------------------------------------------------------------------


def subscription_account(subscription: Subscription) -> Account | None:
    if subscription.company_id:
        return Account(company_id=subscription.company_id)
    if subscription.contact_id:
        return Account(contact_id=subscription.contact_id)
    return None


def billed_period(subscription: Subscription, *, on: date) -> tuple[date, date] | None:
    """The billed period `on` falls in (an invoice was issued for it and not voided), or None."""
    start, end = subscription.current_period_start, subscription.current_period_end
    if start is None or end is None or not start <= on <= end:
        return None
    billed = (
        Invoice.objects.filter(subscription=subscription, period_start=start)
        .exclude(status__in=(InvoiceStatus.DRAFT, InvoiceStatus.VOID))
        .exists()
    )
    return (start, end) if billed else None


def _named_inputs(lines: Sequence[LineItem]) -> list[tuple[str, pricing.LineInput]]:
    return [(line.name, editor.line_input(line)) for line in lines]


def _percent_off(subscription: Subscription, period_start: date) -> Fraction | None:
    """The share the billed period's own invoice took off its lines (the coupon it was billed with, whatever the
    subscription's coupon is now), as a percentage: part of that period is credited and charged at the same
    discount, so a credit never gives back more than the period billed. An amount off counts as its share of the
    invoice's subtotal."""
    invoice = (
        Invoice.objects.filter(subscription=subscription, period_start=period_start)
        .exclude(status__in=(InvoiceStatus.DRAFT, InvoiceStatus.VOID))
        .order_by("id")
        .first()
    )
    if invoice is None:
        return None
    discounts = list(DocumentAdjustment.objects.filter(invoice=invoice, kind=AdjustmentKind.DISCOUNT))
    if not discounts:
        return None
    lines = list(LineItem.objects.filter(invoice=invoice).select_related("tax_rate"))
    subtotal = Fraction(editor.summary(lines, [], currency=invoice.currency).subtotal)
    if subtotal <= 0:
        return None
    kept = Fraction(1)
    for discount in discounts:
        if discount.percent is not None:
            kept *= 1 - Fraction(discount.percent) / 100
        else:
            kept -= Fraction(discount.amount) / subtotal
    return min(Fraction(100), max(Fraction(0), (1 - kept) * 100)) or None


def subscription_lines(subscription: Subscription) -> list[LineItem]:
    return list(
        LineItem.objects.filter(subscription=subscription)
        .select_related("tax_rate", "product")
        .order_by("position", "id")
    )


def cancel_credit_preview(*, subscription: Subscription, on: date) -> proration.Proration | None:
    """The credit for the unused days of the billed period when canceling on `on` (None: nothing billed now)."""
    period = billed_period(subscription, on=on)
    if period is None:
        return None
    return proration.proration(
        old=_named_inputs(subscription_lines(subscription)),
        new=[],
        period_start=period[0],
        period_end=period[1],
        on=on,
        currency=subscription.currency,
        percent_off=_percent_off(subscription, period[0]),
    )


@transaction.atomic
def subscription_cancel(
    *,
    subscription: Subscription,
    actor,
    credit: bool = False,
    reason: str = "",
    on: date | None = None,
    expected_credit: Decimal | None = None,
) -> Subscription:
    """End it now: nothing more is billed. With `credit`, the unused days of the billed period come back as
    customer credit (`expected_credit`, when given, is the amount the user confirmed: a different one refuses)."""
    on = on or timezone.localdate()
    reason = (reason or "").strip()[:300]
    preview = cancel_credit_preview(subscription=subscription, on=on) if credit else None
    if credit and preview is None:
        raise ValidationError(_("Nothing was billed for the current period, so there is nothing to credit."))
    amount = preview.credit.total if preview else Decimal(0)
    if expected_credit is not None and preview is not None and amount != expected_credit:
        raise ValidationError(_("The credit changed meanwhile; check the new amount and confirm again."))
    now = timezone.now()
    before = _transition(
        subscription,
        allowed=LIVE,
        status=SubscriptionStatus.CANCELED,
        canceled_at=now,
        ended_at=now,
        cancel_reason=reason,
        cancel_at_period_end=False,
        resume_on=None,
    )
    if amount > 0:
        account = subscription_account(subscription)
        if account is None:
            raise ValidationError(_("This subscription has no customer to credit."))
        from billing.services.receivables import customer_credit_add

        customer_credit_add(
            account=account,
            currency=subscription.currency,
            amount=amount,
            reason=_("Unused time of %(name)s, %(start)s to %(end)s (canceled)")
            % {
                "name": subscription.name,
                "start": date_format(on, "SHORT_DATE_FORMAT"),
                "end": date_format(preview.period_end, "SHORT_DATE_FORMAT"),
            },
            actor=actor,
        )
    subscription_record(
        subscription,
        kind="canceled",
        actor=actor,
        event=events.SUBSCRIPTION_CANCELED,
        from_status=before,
        to_status=SubscriptionStatus.CANCELED,
        reason=reason,
        credit=f"{amount:f}" if amount else None,
        on=on.isoformat(),
    )
    subscription_mrr_refresh(subscription)
    return subscription


@transaction.atomic
def subscription_cancel_at_period_end(*, subscription: Subscription, actor, reason: str = "") -> Subscription:
    """Cancel when the current period ends: it keeps running (and billed) until then; undo is possible."""
    reason = (reason or "").strip()[:300]
    before = _transition(
        subscription,
        allowed=(SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE, SubscriptionStatus.SCHEDULED),
        where={"cancel_at_period_end": False},
        cancel_at_period_end=True,
        cancel_reason=reason,
    )
    subscription_record(
        subscription,
        kind="cancel_scheduled",
        actor=actor,
        event=events.SUBSCRIPTION_CANCEL_SCHEDULED,
        from_status=before,
        reason=reason,
    )
    return subscription


@transaction.atomic
def subscription_cancel_undo(*, subscription: Subscription, actor) -> Subscription:
    before = _transition(
        subscription,
        allowed=(SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE, SubscriptionStatus.SCHEDULED),
        where={"cancel_at_period_end": True},
        cancel_at_period_end=False,
        cancel_reason="",
    )
    subscription_record(
        subscription,
        kind="cancel_unscheduled",
        actor=actor,
        event=events.SUBSCRIPTION_CANCEL_UNSCHEDULED,
        from_status=before,
    )
    return subscription


# --- coupons ----------------------------------------------------------------------------------------------------------


def coupon_periods(coupon: Coupon) -> int | None:
    if coupon.duration == CouponDuration.ONCE:
        return 1
    if coupon.duration == CouponDuration.REPEATING:
        return coupon.duration_periods
    return None


def coupon_check(coupon: Coupon | None, *, currency: str) -> None:
    if coupon is None:
        return
    if not coupon.active:
        raise ValidationError({"coupon": [_("This coupon is archived and can no longer be applied.")]})
    if coupon.amount_off is not None and coupon.currency != currency:
        raise ValidationError(
            {
                "coupon": [
                    _("This coupon takes an amount off in %(coupon)s; the subscription bills in %(currency)s.")
                    % {"coupon": coupon.currency, "currency": currency}
                ]
            }
        )


@transaction.atomic
def subscription_coupon_apply(*, subscription: Subscription, coupon: Coupon, actor) -> Subscription:
    """The coupon discounts the next invoices (from the next one on, for its duration)."""
    coupon_check(coupon, currency=subscription.currency)
    before = _transition(subscription, allowed=LIVE, coupon=coupon, coupon_periods_left=coupon_periods(coupon))
    subscription.coupon = coupon
    subscription_record(
        subscription,
        kind="coupon_applied",
        actor=actor,
        event=events.SUBSCRIPTION_COUPON_APPLIED,
        from_status=before,
        coupon_id=coupon.pk,
        coupon=coupon.name,
    )
    subscription_mrr_refresh(subscription)
    return subscription


@transaction.atomic
def subscription_coupon_remove(*, subscription: Subscription, actor) -> Subscription:
    if subscription.coupon_id is None:
        raise ValidationError(_("This subscription has no coupon."))
    name = subscription.coupon.name
    before = _transition(
        subscription, allowed=LIVE, where={"coupon__isnull": False}, coupon=None, coupon_periods_left=None
    )
    subscription_record(
        subscription,
        kind="coupon_removed",
        actor=actor,
        event=events.SUBSCRIPTION_COUPON_REMOVED,
        from_status=before,
        coupon=name,
    )
    subscription_mrr_refresh(subscription)
    return subscription


# --- changing the items -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineEdit:
    line_id: int
    quantity: Decimal
    unit_price: Decimal
    remove: bool = False


@dataclass(frozen=True)
class LineAdd:
    product_id: int
    quantity: Decimal


@dataclass
class ItemsChange:
    edits: list[LineEdit] = field(default_factory=list)
    adds: list[LineAdd] = field(default_factory=list)


@dataclass(frozen=True)
class ChangePreview:
    subscription: Subscription
    old_lines: tuple[LineItem, ...]
    new_lines: tuple[LineItem, ...]  # unsaved copies with the change applied, added lines last
    old_summary: pricing.DocumentSummary
    new_summary: pricing.DocumentSummary
    proration: proration.Proration | None  # None: nothing billed now, so the change applies from the next invoice
    on: date

    @property
    def credit(self) -> Decimal:
        return self.proration.credit.total if self.proration else Decimal(0)

    @property
    def charge(self) -> Decimal:
        return self.proration.charge.total if self.proration else Decimal(0)


def _number(value, key: str, errors: dict) -> Decimal | None:
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        number = None
    if number is None or not number.is_finite():
        errors.setdefault(key, []).append(_("Enter a number."))
        return None
    return number


def recurring_line_error(product: Product, frequency: str) -> str:
    """Why a product cannot be a line of a subscription of `frequency` ("" when it can)."""
    if product.billing_frequency == pricing.Frequency.ONE_TIME:
        return _("“%(name)s” is billed one time; a subscription bills recurring items only. Put it on an invoice.") % {
            "name": product.name
        }
    if product.billing_frequency != frequency:
        return _("“%(name)s” is billed %(its)s; this subscription bills %(frequency)s.") % {
            "name": product.name,
            "its": str(pricing_label(product.billing_frequency)).lower(),
            "frequency": str(pricing_label(frequency)).lower(),
        }
    return ""


def pricing_label(frequency: str) -> str:
    from billing.models.choices import Frequency

    return Frequency(frequency).label


def lines_from_products(
    adds: Sequence[LineAdd], *, currency: str, frequency: str, errors: dict[str, list[str]]
) -> list[LineItem]:
    """Unsaved lines for library products (their price in the currency), recurring at `frequency` only."""
    from billing.services.line_items import _line_from_product

    products = {
        p.pk: p
        for p in Product.objects.filter(pk__in=[a.product_id for a in adds])
        .select_related("tax_rate")
        .prefetch_related("prices", "tiers", "components__component__prices")
    }
    lines = []
    for index, add in enumerate(adds):
        key = f"add_{index}"
        product = products.get(add.product_id)
        if product is None:
            errors.setdefault(key, []).append(_("That product does not exist (any more)."))
            continue
        if message := recurring_line_error(product, frequency):
            errors.setdefault(key, []).append(message)
            continue
        if not Decimal(0) < add.quantity <= MAX_QUANTITY:
            errors.setdefault(key, []).append(_("Enter a quantity above 0 and at most 1,000,000."))
            continue
        found: dict[str, list[str]] = {}
        line = _line_from_product(product, currency, found)
        if line is None:
            errors.setdefault(key, []).extend(m for messages in found.values() for m in messages)
            continue
        line.quantity = add.quantity
        line.tax_rate = product.tax_rate
        lines.append(line)
    return lines


def _edited_lines(old: Sequence[LineItem], change: ItemsChange, errors: dict) -> list[LineItem]:
    by_id = {line.pk: line for line in old}
    edits = {}
    for edit in change.edits:
        if edit.line_id not in by_id:
            errors.setdefault("lines", []).append(_("A line of this subscription no longer exists; reload the page."))
            continue
        edits[edit.line_id] = edit
    new = []
    for line in old:
        edit = edits.get(line.pk)
        if edit is not None and edit.remove:
            continue
        copy = LineItem(**{f.attname: getattr(line, f.attname) for f in LineItem._meta.concrete_fields})
        copy.tax_rate = line.tax_rate
        if edit is not None:
            key = f"line_{line.pk}"
            if not Decimal(0) < edit.quantity <= MAX_QUANTITY:
                errors.setdefault(key, []).append(_("Enter a quantity above 0 and at most 1,000,000."))
            if edit.unit_price < 0:
                errors.setdefault(key, []).append(_("A price cannot be negative."))
            copy.quantity = edit.quantity
            copy.unit_price = edit.unit_price
        new.append(copy)
    return new


def subscription_change_preview(
    *, subscription: Subscription, change: ItemsChange, on: date | None = None
) -> ChangePreview:
    """What the change does: the new lines, their per-period totals, and the proration for the rest of the period
    (the exact credit and charge the user confirms). Raises ValidationError with messages keyed by field."""
    on = on or timezone.localdate()
    if subscription.status not in LIVE:
        raise ValidationError(_("A canceled or ended subscription cannot change."))
    old = subscription_lines(subscription)
    errors: dict[str, list[str]] = {}
    new = _edited_lines(old, change, errors)
    new += lines_from_products(
        change.adds, currency=subscription.currency, frequency=subscription.frequency, errors=errors
    )
    if not errors and not new:
        errors.setdefault("lines", []).append(_("A subscription needs at least one item; cancel it instead."))
    if len(new) > MAX_LINES:
        errors.setdefault("lines", []).append(_("A subscription holds at most 50 items."))
    if errors:
        raise ValidationError(errors)
    try:
        old_summary = editor.summary(old, [], currency=subscription.currency)
        new_summary = editor.summary(new, [], currency=subscription.currency)
        period = billed_period(subscription, on=on) if subscription.status != SubscriptionStatus.PAUSED else None
        prorated = None
        if period is not None:
            prorated = proration.proration(
                old=_named_inputs(old),
                new=_named_inputs(new),
                period_start=period[0],
                period_end=period[1],
                on=on,
                currency=subscription.currency,
                percent_off=_percent_off(subscription, period[0]),
            )
    except pricing.PricingError as exc:
        raise ValidationError({"lines": [message for _f, message in exc.errors]}) from exc
    return ChangePreview(
        subscription=subscription,
        old_lines=tuple(old),
        new_lines=tuple(new),
        old_summary=old_summary,
        new_summary=new_summary,
        proration=prorated,
        on=on,
    )


def _proration_invoice(subscription: Subscription, preview: ChangePreview, actor) -> Invoice | None:
    from billing.services.invoices import invoice_create, invoice_finalize

    prorated = preview.proration
    if prorated is None or prorated.charge.total <= 0:
        return None
    span = {
        "start": date_format(prorated.on, "SHORT_DATE_FORMAT"),
        "end": date_format(prorated.period_end, "SHORT_DATE_FORMAT"),
        "left": prorated.days_left,
        "days": prorated.days_in_period,
    }
    lines = []
    for position, (item, source) in enumerate(zip(prorated.charge_lines, preview.new_lines, strict=True)):
        line = LineItem(
            position=position,
            product=source.product,
            name=(_("Remaining time on %(name)s") % {"name": item.name})[:200],
            description=_("%(start)s to %(end)s: %(left)s of %(days)s days") % span,
            sku=source.sku,
            quantity=Decimal(1),
            unit_price=item.line.unit_price,
            currency=subscription.currency,
            tax_rate=source.tax_rate,
            frequency=pricing.Frequency.ONE_TIME,
        )
        lines.append(line)
    contacts = [subscription.contact] if subscription.contact_id else []
    invoice = invoice_create(
        actor=actor,
        company=subscription.company,
        contacts=contacts,
        deal=subscription.deal,
        currency=subscription.currency,
        lines=lines,
    )
    Invoice.objects.filter(pk=invoice.pk, status=InvoiceStatus.DRAFT).update(subscription=subscription)
    invoice.subscription = subscription
    return invoice_finalize(invoice=invoice, actor=actor, issue_date=prorated.on)


@transaction.atomic
def subscription_change_items(
    *,
    subscription: Subscription,
    change: ItemsChange,
    actor,
    expected_credit: Decimal,
    expected_charge: Decimal,
    on: date | None = None,
) -> tuple[Subscription, Invoice | None]:
    """Apply a change the user saw in the preview: the lines change now; in a billed period the old lines'
    unused time becomes customer credit and the new lines' remaining time is invoiced now. The amounts are
    recomputed under the subscription's lock and must be the ones confirmed."""
    on = on or timezone.localdate()
    locked = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("coupon", "company", "contact", "deal")
        .get(pk=subscription.pk)
    )
    preview = subscription_change_preview(subscription=locked, change=change, on=on)
    if (preview.credit, preview.charge) != (expected_credit, expected_charge):
        raise ValidationError(_("The amounts changed meanwhile; check the new preview and confirm again."))
    before = _transition(locked, allowed=LIVE)
    kept = {line.pk for line in preview.new_lines if line.pk}
    LineItem.objects.filter(subscription=locked).exclude(pk__in=kept).delete()
    for position, line in enumerate(preview.new_lines):
        line.position = position
        if line.pk:
            LineItem.objects.filter(pk=line.pk, subscription=locked).update(
                quantity=line.quantity, unit_price=line.unit_price, position=position
            )
        else:
            line.subscription = locked
            line.save()
    if preview.credit > 0:
        account = subscription_account(locked)
        if account is None:
            raise ValidationError(_("This subscription has no customer to credit."))
        from billing.services.receivables import customer_credit_add

        customer_credit_add(
            account=account,
            currency=locked.currency,
            amount=preview.credit,
            reason=_("Unused time of %(name)s, %(start)s to %(end)s (items changed)")
            % {
                "name": locked.name,
                "start": date_format(on, "SHORT_DATE_FORMAT"),
                "end": date_format(preview.proration.period_end, "SHORT_DATE_FORMAT"),
            },
            actor=actor,
        )
    invoice = _proration_invoice(locked, preview, actor)
    subscription_record(
        locked,
        kind="changed",
        actor=actor,
        event=events.SUBSCRIPTION_CHANGED,
        from_status=before,
        on=on.isoformat(),
        credit=f"{preview.credit:f}",
        charge=f"{preview.charge:f}",
        invoice_id=invoice.pk if invoice else None,
        before=[
            f"{line.quantity.normalize():f} × {line.name} @ {line.unit_price.normalize():f}"
            for line in preview.old_lines
        ],
        after=[
            f"{line.quantity.normalize():f} × {line.name} @ {line.unit_price.normalize():f}"
            for line in preview.new_lines
        ],
    )
    subscription_mrr_refresh(locked)
    subscription.refresh_from_db()
    return subscription, invoice
