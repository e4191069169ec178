"""Settings → Quotes: approval thresholds, what new quotes start with, the stage a paid quote moves its deal to, and
the quote number series.

Each service is one transaction that locks the settings row, writes it and appends one audit row with the changed
values before and after (nothing changed: no audit row). The services decide what is allowed, so any caller gets the
same refusals with the same messages next to the same fields.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision, is_currency
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from djmoney.money import Money

from billing.models import NumberSeries, QuoteSettings
from billing.selectors.quote_settings import quote_settings_get
from billing.services.invoice_settings import PrefixChange, PrefixChangeUnconfirmed
from billing.services.numbering import number_format, number_series_get, number_series_update
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.money import money_in_bounds, money_too_large_message, quantize
from crm.models import Pipeline, Stage

EXPIRY_DAYS_MIN, EXPIRY_DAYS_MAX = 1, 365


def _plain(value):
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value


def _settings_save(*, actor, values: dict) -> QuoteSettings:
    """Write `values` to the locked settings row and audit what changed."""
    settings = QuoteSettings.objects.select_for_update().get(pk=quote_settings_get().pk)
    changed = [name for name, value in values.items() if getattr(settings, name) != value]
    if not changed:
        return settings
    before = {name: _plain(getattr(settings, name)) for name in changed}
    for name in changed:
        setattr(settings, name, values[name])
    settings.save(update_fields=changed)
    audit_record(
        actor=actor,
        action="billing.quote_settings_changed",
        obj=settings,
        object_repr="quote settings",
        before=before,
        after={name: _plain(values[name]) for name in changed},
    )
    return settings


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return Decimal("NaN")
    return number


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


@transaction.atomic
def quote_approval_settings_update(
    *, actor, approvals_enabled: bool, discount_percent, total: Money | None
) -> QuoteSettings:
    """Whether quotes need approval, and above which discount (a percentage of the undiscounted amount) or total
    (an amount in one currency; quotes in other currencies are converted at the day's exchange rate). Either limit
    may be left empty; with approvals on, at least one is needed."""
    errors: dict[str, list[str]] = {}
    percent = _decimal(discount_percent)
    if percent is not None:
        if not percent.is_finite():
            errors["approval_discount_percent"] = [_("Enter a percentage.")]
        elif not Decimal(0) < percent <= Decimal(100):
            errors["approval_discount_percent"] = [_("Enter a percentage above 0 and at most 100.")]
        elif _decimals(percent) > 2:
            errors["approval_discount_percent"] = [_("Use at most 2 decimals.")]
    amount = None if total is None else _decimal(total.amount)
    currency = "" if total is None else str(total.currency)
    if amount is not None:
        if not is_currency(currency) or len(currency) != 3 or currency != currency.upper():
            errors["approval_total_currency"] = [_("Choose a currency.")]
        elif not amount.is_finite():
            errors["approval_total_amount"] = [_("Enter an amount.")]
        elif amount <= 0:
            errors["approval_total_amount"] = [_("Enter an amount above zero.")]
        elif not money_in_bounds(amount):
            errors["approval_total_amount"] = [money_too_large_message()]
        elif _decimals(amount) > get_currency_precision(currency):
            errors["approval_total_amount"] = [
                _("Use at most %(count)d decimals.") % {"count": get_currency_precision(currency)}
            ]
    if approvals_enabled and percent is None and amount is None and not errors:
        errors["approvals_enabled"] = [_("Set a discount or a total above which quotes need approval.")]
    if errors:
        raise ValidationError(errors)
    return _settings_save(
        actor=actor,
        values={
            "approvals_enabled": bool(approvals_enabled),
            "approval_discount_percent": None if percent is None else percent.quantize(Decimal("0.01")),
            "approval_total_amount": None if amount is None else quantize(amount, currency),
            "approval_total_currency": currency if amount is not None else "",
        },
    )


@transaction.atomic
def quote_defaults_update(*, actor, expiry_days: int | None, signature_required: bool, payment_enabled: bool):
    """What a new quote starts with: its expiration date, whether the buyer signs and whether the buyer pays."""
    if expiry_days is None or not EXPIRY_DAYS_MIN <= expiry_days <= EXPIRY_DAYS_MAX:
        raise ValidationError(
            {
                "expiry_days": [
                    _("Enter between %(min)d and %(max)d days.") % {"min": EXPIRY_DAYS_MIN, "max": EXPIRY_DAYS_MAX}
                ]
            }
        )
    return _settings_save(
        actor=actor,
        values={
            "expiry_days": expiry_days,
            "signature_required": bool(signature_required),
            "payment_enabled": bool(payment_enabled),
        },
    )


def won_stage_field(pipeline_id) -> str:
    return f"won_stage_{pipeline_id}"


@transaction.atomic
def quote_won_stages_update(*, actor, won_stages: dict) -> QuoteSettings:
    """The stage a deal moves to when its quote is paid, per pipeline ({pipeline id: stage id or None}); None keeps
    the deal where it is. Pipelines left out keep their setting; pipelines that no longer exist are forgotten."""
    pipelines = set(Pipeline.objects.values_list("pk", flat=True))
    stages = dict(Stage.objects.values_list("pk", "pipeline_id"))  # active stages only
    errors: dict[str, list[str]] = {}
    chosen: dict[int, int | None] = {}
    for raw_pipeline, raw_stage in won_stages.items():
        try:
            pipeline_id = int(raw_pipeline)
            stage_id = None if raw_stage in (None, "") else int(raw_stage)
        except (TypeError, ValueError):
            errors[won_stage_field(raw_pipeline)] = [_("Choose a stage of this pipeline.")]
            continue
        if pipeline_id not in pipelines:
            errors[won_stage_field(raw_pipeline)] = [_("This pipeline no longer exists; reload the page.")]
        elif stage_id is not None and stages.get(stage_id) != pipeline_id:
            errors[won_stage_field(pipeline_id)] = [_("Choose a stage of this pipeline.")]
        else:
            chosen[pipeline_id] = stage_id
    if errors:
        raise ValidationError(errors)
    current = quote_settings_get().won_stages or {}
    merged = {key: value for key, value in current.items() if key.isdigit() and int(key) in pipelines}
    for pipeline_id, stage_id in chosen.items():
        if stage_id is None:
            merged.pop(str(pipeline_id), None)
        else:
            merged[str(pipeline_id)] = stage_id
    return _settings_save(actor=actor, values={"won_stages": dict(sorted(merged.items(), key=lambda kv: int(kv[0])))})


def quote_next_number() -> str:
    """The number the next quote gets when it is first published (Q-1001)."""
    series = number_series_get(NumberSeries.QUOTE)
    return number_format(series.prefix, series.next_number)


class _Rollback(Exception):
    pass


def quote_numbering_update(*, actor, prefix: str, start_number: int | None, confirmed: bool = False) -> list:
    """Change the quote number series (Q-1001 by default). Numbers are never reused and no two document series
    share a prefix (billing.services.numbering). A new prefix renumbers no quote already numbered, so it is refused
    until `confirmed`; the unconfirmed attempt runs every check inside a transaction that is rolled back, so the
    confirmation is only asked for a change that would be saved. Returns the prefix changes saved."""
    if start_number is None:
        raise ValidationError({"start_number": [_("Enter a whole number from 1 to 999,999,999,999.")]})
    changes: list[PrefixChange] = []
    try:
        with transaction.atomic():
            current = NumberSeries.objects.select_for_update().get(pk=number_series_get(NumberSeries.QUOTE).pk)
            series = number_series_update(key=NumberSeries.QUOTE, prefix=prefix, start_number=start_number, actor=actor)
            if series.prefix != current.prefix:
                changes.append(
                    PrefixChange(
                        key=NumberSeries.QUOTE,
                        old_prefix=current.prefix,
                        new_prefix=series.prefix,
                        first_number=number_format(series.prefix, series.next_number),
                    )
                )
            if changes and not confirmed:
                raise _Rollback
    except _Rollback:
        raise PrefixChangeUnconfirmed(changes) from None
    return changes
