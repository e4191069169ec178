"""Exchange rates entered by admins (Settings → Exchange rates)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing import events
from billing.models import ExchangeRate
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.services import event_emit

# The column is DECIMAL(18, 8): ten digits before the point.
MAX_RATE = Decimal("9999999999.99999999")


def _validate(*, base: str, quote: str, rate: Decimal) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for key, code in (("base", base), ("quote", quote)):
        if code not in settings.CURRENCIES:
            errors[key] = [_("“%(value)s” is not a currency we accept.") % {"value": code}]
    if "quote" not in errors and base == quote:
        errors["quote"] = [_("Pick two different currencies.")]
    if not rate.is_finite():
        errors["rate"] = [_("Enter a number.")]
    elif rate <= 0:
        errors["rate"] = [_("Enter a rate above 0.")]
    elif rate > MAX_RATE:
        errors["rate"] = [_("That rate is too large.")]
    elif rate != rate.quantize(Decimal("1E-8")):
        errors["rate"] = [_("Use at most 8 decimals.")]
    return errors


def _duplicate_error(base: str, quote: str, valid_from: date) -> ValidationError:
    return ValidationError(
        {
            "valid_from": [
                _("There is already a rate for %(base)s → %(quote)s from %(date)s.")
                % {"base": base, "quote": quote, "date": valid_from.isoformat()}
            ]
        }
    )


def _save(rate: ExchangeRate) -> None:
    try:
        with transaction.atomic():
            rate.save()
    except IntegrityError as exc:  # the unique (base, quote, valid_from), also under a concurrent save
        raise _duplicate_error(rate.base, rate.quote, rate.valid_from) from exc


def exchange_rate_create(*, base: str, quote: str, rate: Decimal, valid_from: date, actor) -> ExchangeRate:
    errors = _validate(base=base, quote=quote, rate=rate)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = ExchangeRate(base=base, quote=quote, rate=rate, valid_from=valid_from)
        _save(row)
        audit_record(actor=actor, action="billing.exchange_rate_created", obj=row, after=_snapshot(row))
        event_emit(name=events.EXCHANGE_RATE_CREATED, payload={"id": row.pk})
    return row


def exchange_rate_update(
    *, exchange_rate: ExchangeRate, base: str, quote: str, rate: Decimal, valid_from: date, actor
) -> ExchangeRate:
    errors = _validate(base=base, quote=quote, rate=rate)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row = ExchangeRate.objects.select_for_update().get(pk=exchange_rate.pk)
        before = _snapshot(row)
        row.base, row.quote, row.rate, row.valid_from = base, quote, rate, valid_from
        _save(row)
        audit_record(actor=actor, action="billing.exchange_rate_updated", obj=row, before=before, after=_snapshot(row))
        event_emit(name=events.EXCHANGE_RATE_UPDATED, payload={"id": row.pk})
    return row


def exchange_rate_delete(*, exchange_rate: ExchangeRate, actor) -> None:
    with transaction.atomic():
        audit_record(
            actor=actor, action="billing.exchange_rate_deleted", obj=exchange_rate, before=_snapshot(exchange_rate)
        )
        event_emit(name=events.EXCHANGE_RATE_DELETED, payload={"id": exchange_rate.pk})
        exchange_rate.delete()


def _snapshot(row: ExchangeRate) -> dict:
    return {"base": row.base, "quote": row.quote, "rate": str(row.rate), "valid_from": row.valid_from.isoformat()}
