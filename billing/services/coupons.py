"""Coupons: created with their rules checked, archived when no longer offered (a coupon is never deleted once a
subscription used it, and an archived one stays on the subscriptions that have it)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import is_currency
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing import events
from billing.models import Coupon, CouponDuration
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.services import event_emit
from commerce_hub.money import money_amount_error

MAX_PERIODS = 1000


@dataclass
class CouponValues:
    name: str
    duration: str
    code: str = ""
    percent_off: Decimal | None = None
    amount_off: Decimal | None = None
    currency: str = ""
    duration_periods: int | None = None


def coupon_errors(values: CouponValues) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if not values.name.strip():
        add("name", _("Give the coupon a name."))
    if (values.percent_off is None) == (values.amount_off is None):
        add("percent_off", _("Enter either a percentage or an amount off."))
    if values.percent_off is not None and not (
        values.percent_off.is_finite() and Decimal(0) < values.percent_off <= 100
    ):
        add("percent_off", _("Enter a percentage above 0 and at most 100."))
    if values.percent_off is not None and values.percent_off.is_finite():
        exponent = values.percent_off.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -4:
            add("percent_off", _("Use at most four decimals."))
    if values.amount_off is not None:
        if not values.currency or not is_currency(values.currency, locale="en"):
            add("currency", _("An amount off needs its currency."))
        elif values.amount_off <= 0:
            add("amount_off", _("Enter an amount above zero."))
        elif message := money_amount_error(values.amount_off, values.currency):
            add("amount_off", message)
    if values.duration not in CouponDuration.values:
        add("duration", _("Choose how long it applies."))
    elif values.duration == CouponDuration.REPEATING and (
        values.duration_periods is None or not 1 <= values.duration_periods <= MAX_PERIODS
    ):
        add("duration_periods", _("Enter for how many periods (1 to 1000)."))
    if values.code and (len(values.code) > 40 or not values.code.replace("-", "").replace("_", "").isalnum()):
        add("code", _("Use at most 40 letters, digits, dashes or underscores."))
    return errors


@transaction.atomic
def coupon_create(*, values: CouponValues, actor) -> Coupon:
    values.code = values.code.strip().upper()
    errors = coupon_errors(values)
    if not errors and values.code and Coupon.objects.filter(code=values.code).exists():
        errors["code"] = [_("Another coupon has this code.")]
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            coupon = Coupon.objects.create(
                name=values.name.strip()[:120],
                code=values.code,
                percent_off=values.percent_off,
                amount_off=values.amount_off,
                currency=values.currency if values.amount_off is not None else "",
                duration=values.duration,
                duration_periods=values.duration_periods if values.duration == CouponDuration.REPEATING else None,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError as exc:  # the same code saved by someone else a moment ago
        raise ValidationError({"code": [_("Another coupon has this code.")]}) from exc
    audit_record(actor=actor, action="coupon.created", obj=coupon, object_repr=coupon.name)
    event_emit(name=events.COUPON_CREATED, payload={"id": coupon.pk})
    return coupon


@transaction.atomic
def coupon_archive(*, coupon: Coupon, actor) -> Coupon:
    """No longer offered: it cannot be applied any more; subscriptions that have it keep it."""
    if Coupon.objects.filter(pk=coupon.pk, active=True).update(active=False) != 1:
        raise ValidationError(_("This coupon is archived already."))
    coupon.active = False
    audit_record(actor=actor, action="coupon.archived", obj=coupon, object_repr=coupon.name)
    event_emit(name=events.COUPON_ARCHIVED, payload={"id": coupon.pk})
    return coupon


@transaction.atomic
def coupon_delete(*, coupon: Coupon, actor) -> None:
    """Only a coupon no subscription ever used; a used one is archived instead."""
    from billing.models import Subscription, SubscriptionEvent

    used = (
        Subscription.objects.filter(coupon=coupon).exists()
        or SubscriptionEvent.objects.filter(kind="coupon_applied", data__coupon_id=coupon.pk).exists()
    )
    if used:
        raise ValidationError(_("A coupon a subscription used is kept; archive it instead."))
    audit_record(actor=actor, action="coupon.deleted", obj=coupon, object_repr=coupon.name)
    coupon.delete()
