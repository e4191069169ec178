"""Settings → Invoices: numbering, what new invoices start with, bank details, the reminder schedule and late fees.

Each service is one transaction that locks the settings row it changes, writes it, and appends one audit row with
the changed values before and after. The services decide what is allowed (ranges, IBAN and BIC checks), so any
caller gets the same refusals with the same messages next to the same fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision, is_currency
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from djmoney.money import Money
from schwifty import BIC, IBAN
from schwifty import exceptions as schwifty_errors

from billing.documents import invoice_settings_get
from billing.models import InvoiceSettings, LateFeeMode, NumberSeries, PaymentMethod, ReminderStep
from billing.services.invoices import MAX_TERMS_DAYS
from billing.services.numbering import number_format, number_series_get, number_series_update
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.money import number_format as locale_number
from commerce_hub.money import quantize

PAYMENT_TERMS_PRESETS = (0, 7, 14, 30, 60)
MAX_TEXT = 2000
MAX_LATE_FEE = Decimal(1_000_000)
OFFSET_MIN, OFFSET_MAX = -60, 365
AFTER_DAYS_MIN, AFTER_DAYS_MAX = 1, 365


# --- numbering --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrefixChange:
    key: str
    old_prefix: str
    new_prefix: str
    first_number: str  # the first number the new prefix gives, e.g. "ABC-1001"


class PrefixChangeUnconfirmed(Exception):
    """A prefix change was valid but not confirmed: nothing was saved. Carries what would change."""

    def __init__(self, changes: list[PrefixChange]):
        super().__init__("prefix change needs confirmation")
        self.changes = changes


class _Rollback(Exception):
    pass


SERIES_FIELDS = {NumberSeries.INVOICE: "invoice", NumberSeries.CREDIT_NOTE: "credit_note"}


def invoice_numbering_update(
    *,
    actor,
    invoice_prefix: str,
    invoice_start: int,
    credit_note_prefix: str,
    credit_note_start: int,
    confirmed: bool = False,
) -> list[PrefixChange]:
    """Change both number series in one transaction. A new prefix renumbers nothing: invoices finalized before
    keep their numbers, so changing it is refused until `confirmed`. The unconfirmed attempt still runs every
    check (inside a transaction that is then rolled back), so the confirmation is only asked for a change that
    would be saved as it stands. Errors come back on fields named invoice_prefix, credit_note_start_number, ..."""
    values = {
        NumberSeries.INVOICE: (invoice_prefix, invoice_start),
        NumberSeries.CREDIT_NOTE: (credit_note_prefix, credit_note_start),
    }
    changes: list[PrefixChange] = []
    try:
        with transaction.atomic():
            errors: dict[str, list[str]] = {}
            for key, (prefix, start) in values.items():
                field = SERIES_FIELDS[key]
                # Locked first, so the prefix compared here is the one this update replaces.
                current = NumberSeries.objects.select_for_update().get(pk=number_series_get(key).pk)
                try:
                    series = number_series_update(key=key, prefix=prefix, start_number=start, actor=actor)
                except ValidationError as exc:
                    for name, messages in exc.message_dict.items():
                        errors[f"{field}_{'start' if name == 'start_number' else name}"] = messages
                    continue
                if series.prefix != current.prefix:
                    changes.append(
                        PrefixChange(
                            key=key,
                            old_prefix=current.prefix,
                            new_prefix=series.prefix,
                            first_number=number_format(series.prefix, series.next_number),
                        )
                    )
            if errors:
                raise ValidationError(errors)
            if changes and not confirmed:
                raise _Rollback
    except _Rollback:
        raise PrefixChangeUnconfirmed(changes) from None
    return changes


def next_numbers() -> dict[str, str]:
    """The number the next invoice and the next credit note will get."""
    result = {}
    for key, field in SERIES_FIELDS.items():
        series = number_series_get(key)
        result[field] = number_format(series.prefix, series.next_number)
    return result


# --- bank details -----------------------------------------------------------------------------------------------------


def _compact(value: str) -> str:
    return re.sub(r"[\s\-.]", "", value or "").upper()


def _iban_error(exc: Exception, text: str) -> str:
    # schwifty's messages are English only and name internal formats; these say what to do, in every language.
    country = text[:2]
    if isinstance(exc, schwifty_errors.InvalidChecksumDigits):
        return _("This IBAN is not valid: its check digits do not match. Check it for typing errors.")
    if isinstance(exc, schwifty_errors.InvalidCountryCode):
        return _("An IBAN starts with a country code, like NL or NO.")
    if isinstance(exc, schwifty_errors.InvalidLength):
        return _("This IBAN has the wrong number of characters for %(country)s.") % {"country": country}
    if isinstance(exc, schwifty_errors.InvalidBBANChecksum):
        return _("This IBAN is not valid: the account number's check digit does not match.")
    return _("This is not a valid IBAN: it does not have the right format for %(country)s.") % {"country": country}


def _bic_error(exc: Exception) -> str:
    if isinstance(exc, schwifty_errors.InvalidLength):
        return _("A BIC has 8 or 11 characters.")
    if isinstance(exc, schwifty_errors.InvalidCountryCode):
        return _("This BIC has no valid country code (its 5th and 6th characters).")
    return _("This is not a valid BIC: it does not have the right format.")


def bank_details_clean(*, iban: str, bic: str) -> tuple[str, str]:
    """The IBAN and BIC as stored (compact, uppercase), or a ValidationError on the field that is wrong.

    A BIC left empty is filled in from the IBAN where the bank registry knows it. A BIC is checked against the
    IBAN only as far as the registry can tell: the country always, the bank when either side names it."""
    errors: dict[str, list[str]] = {}
    iban_text, bic_text = _compact(iban), _compact(bic)
    parsed_iban = parsed_bic = None
    if iban_text:
        try:
            parsed_iban = IBAN(iban_text)
        except schwifty_errors.SchwiftyException as exc:
            errors["iban"] = [_iban_error(exc, iban_text)]
    if bic_text:
        try:
            parsed_bic = BIC(bic_text)
        except schwifty_errors.SchwiftyException as exc:
            errors["bic"] = [_bic_error(exc)]
    if parsed_iban is not None and parsed_bic is not None:
        if parsed_bic.country_code != parsed_iban.country_code:
            errors["bic"] = [
                _("This BIC is of a bank in %(bic_country)s, but the IBAN is from %(iban_country)s.")
                % {"bic_country": parsed_bic.country_code, "iban_country": parsed_iban.country_code}
            ]
        else:
            expected = parsed_iban.bic
            bank_codes = parsed_bic.domestic_bank_codes
            if (bank_codes and parsed_iban.bank_code not in bank_codes) or (
                not bank_codes and expected is not None and expected.bank_code != parsed_bic.bank_code
            ):
                if expected is None:
                    errors["bic"] = [_("This BIC is not of the bank this IBAN belongs to.")]
                else:
                    errors["bic"] = [
                        _("This BIC is not of the bank this IBAN belongs to (%(bank)s, BIC %(expected)s).")
                        % {"bank": parsed_iban.bank_name or parsed_iban.bank_code, "expected": expected}
                    ]
    if errors:
        raise ValidationError(errors)
    if parsed_iban is not None and parsed_bic is None and parsed_iban.bic is not None:
        bic_text = str(parsed_iban.bic.compact)
    return (str(parsed_iban.compact) if parsed_iban is not None else ""), bic_text


# --- the settings row -------------------------------------------------------------------------------------------------


def _plain(value):
    if isinstance(value, Decimal):
        return f"{value:f}"
    return value


def _settings_save(*, actor, action: str, values: dict) -> InvoiceSettings:
    """Write `values` to the locked settings row and audit what changed (nothing changed: no row, no audit)."""
    settings = InvoiceSettings.objects.select_for_update().get(pk=invoice_settings_get().pk)
    changed = [name for name, value in values.items() if getattr(settings, name) != value]
    if not changed:
        return settings
    before = {name: _plain(getattr(settings, name)) for name in changed}
    for name in changed:
        setattr(settings, name, values[name])
    settings.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor,
        action=action,
        obj=settings,
        object_repr=str(settings),
        before=before,
        after={name: _plain(values[name]) for name in changed},
    )
    return settings


@transaction.atomic
def invoice_defaults_update(
    *,
    actor,
    payment_methods: list[str],
    payment_terms_days: int | None,
    footer_text: str = "",
    legal_text: str = "",
    bank_account_holder: str = "",
    iban: str = "",
    bic: str = "",
    email: str = "",
    credit_auto_apply: bool = True,
) -> InvoiceSettings:
    """What every new invoice starts with (payment methods and terms), what every invoice prints, and whether the
    customer's credit pays a new invoice by itself."""
    errors: dict[str, list[str]] = {}
    methods = list(dict.fromkeys(payment_methods))
    if any(m not in PaymentMethod.values for m in methods):
        errors["payment_methods"] = [_("Choose from the listed payment methods.")]
    elif not methods:
        errors["payment_methods"] = [_("Accept at least one payment method.")]
    if payment_terms_days is None:
        errors["payment_terms_days"] = [_("Enter the number of days.")]
    elif not 0 <= payment_terms_days <= MAX_TERMS_DAYS:
        errors["payment_terms_days"] = [_("Enter between 0 and %(max)d days.") % {"max": MAX_TERMS_DAYS}]
    footer_text, legal_text = footer_text.strip(), legal_text.strip()
    for name, text in (("footer_text", footer_text), ("legal_text", legal_text)):
        if len(text) > MAX_TEXT:
            errors[name] = [_("Keep this under %(max)s characters.") % {"max": locale_number(MAX_TEXT)}]
    bank_account_holder = " ".join(bank_account_holder.split())
    if len(bank_account_holder) > 70:
        errors["bank_account_holder"] = [_("Keep the account holder under 70 characters.")]
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid email address.")]
    try:
        iban, bic = bank_details_clean(iban=iban, bic=bic)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    # Sorted in the order the choices list them, so the same selection never reads as a change.
    methods = [m for m in PaymentMethod.values if m in methods]
    return _settings_save(
        actor=actor,
        action="billing.invoice_settings_changed",
        values={
            "payment_methods": methods,
            "payment_terms_days": payment_terms_days,
            "footer_text": footer_text,
            "legal_text": legal_text,
            "bank_account_holder": bank_account_holder,
            "iban": iban,
            "bic": bic,
            "email": email,
            "credit_auto_apply": bool(credit_auto_apply),
        },
    )


@transaction.atomic
def reminder_settings_update(*, actor, reminders_enabled: bool, skip_weekends: bool) -> InvoiceSettings:
    return _settings_save(
        actor=actor,
        action="billing.reminder_settings_changed",
        values={"reminders_enabled": bool(reminders_enabled), "skip_weekends": bool(skip_weekends)},
    )


HOSTED_LINK_MAX_DAYS = 3650


@transaction.atomic
def hosted_link_settings_update(*, actor, expiry_days: int | None) -> InvoiceSettings:
    """How many days after an invoice is paid its hosted link stops working (None: it keeps working)."""
    if expiry_days is not None and not 1 <= expiry_days <= HOSTED_LINK_MAX_DAYS:
        raise ValidationError(
            {"expiry_days": [_("Enter between 1 and %(max)d days, or leave it empty.") % {"max": HOSTED_LINK_MAX_DAYS}]}
        )
    return _settings_save(
        actor=actor, action="billing.hosted_link_settings_changed", values={"hosted_link_expiry_days": expiry_days}
    )


def _decimal(value) -> Decimal | None:
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() else None


def _decimals(value: Decimal) -> int:
    return max(0, -value.normalize().as_tuple().exponent)


@transaction.atomic
def late_fee_settings_update(
    *, actor, late_fee_mode: str, late_fee: Money | None, late_fee_interest_rate, late_fee_after_days: int
) -> InvoiceSettings:
    """How an overdue invoice is charged for: never, a fixed amount in its own currency (converted at the day's
    exchange rate for an invoice in another currency), or statutory interest at a yearly rate, each invoiced
    separately once the invoice is `late_fee_after_days` overdue."""
    errors: dict[str, list[str]] = {}
    if late_fee_mode not in LateFeeMode.values:
        errors["late_fee_mode"] = [_("Choose how late payment is charged.")]
    amount = None if late_fee is None else _decimal(late_fee.amount)
    currency = "" if late_fee is None else str(late_fee.currency)
    if amount is None:
        errors["late_fee_amount"] = [_("Enter an amount.")]
    elif not is_currency(currency):
        errors["late_fee_currency"] = [_("Choose a currency.")]
    elif not 0 <= amount < MAX_LATE_FEE:
        errors["late_fee_amount"] = [_("Enter an amount from 0 up to 1,000,000.")]
    elif _decimals(amount) > get_currency_precision(currency):
        # The currency's own minor unit (Babel): 2 decimals for EUR, 3 for KWD, none for JPY.
        errors["late_fee_amount"] = [_("Use at most %(count)d decimals.") % {"count": get_currency_precision(currency)}]
    rate = _decimal(late_fee_interest_rate)
    if rate is None:
        errors["late_fee_interest_rate"] = [_("Enter a yearly rate.")]
    elif not 0 <= rate <= 100:
        errors["late_fee_interest_rate"] = [_("Enter a rate from 0 to 100%.")]
    elif _decimals(rate) > 3:
        errors["late_fee_interest_rate"] = [_("Use at most 3 decimals.")]
    if late_fee_after_days is None or not AFTER_DAYS_MIN <= late_fee_after_days <= AFTER_DAYS_MAX:
        errors["late_fee_after_days"] = [
            _("Enter between %(min)d and %(max)d days.") % {"min": AFTER_DAYS_MIN, "max": AFTER_DAYS_MAX}
        ]
    if errors:
        raise ValidationError(errors)
    return _settings_save(
        actor=actor,
        action="billing.late_fee_settings_changed",
        values={
            "late_fee_mode": late_fee_mode,
            "late_fee_amount": quantize(amount, currency),
            "late_fee_currency": currency,
            "late_fee_interest_rate": rate.quantize(Decimal("0.001")),
            "late_fee_after_days": late_fee_after_days,
        },
    )


# --- the reminder schedule --------------------------------------------------------------------------------------------


@transaction.atomic
def reminder_step_create(*, actor, offset_days: int, kind: str) -> ReminderStep:
    errors: dict[str, list[str]] = {}
    if offset_days is None or not OFFSET_MIN <= offset_days <= OFFSET_MAX:
        errors["offset_days"] = [
            _("Enter between %(min)d and %(max)d days from the due date.") % {"min": OFFSET_MIN, "max": OFFSET_MAX}
        ]
    elif ReminderStep.objects.filter(offset_days=offset_days).exists():
        errors["offset_days"] = [_("The schedule already has a step on that day.")]
    if kind not in ReminderStep.Kind.values:
        errors["kind"] = [_("Choose the kind of reminder.")]
    if errors:
        raise ValidationError(errors)
    try:
        # A savepoint, so a step added at the same moment by someone else is a message, not a broken transaction.
        with transaction.atomic():
            step = ReminderStep.objects.create(offset_days=offset_days, kind=kind)
    except IntegrityError as exc:
        raise ValidationError({"offset_days": [_("The schedule already has a step on that day.")]}) from exc
    audit_record(
        actor=actor,
        action="billing.reminder_step_created",
        obj=step,
        object_repr=f"{offset_days:+d}",
        after={"offset_days": offset_days, "kind": kind},
    )
    return step


@transaction.atomic
def reminder_step_delete(*, actor, step: ReminderStep) -> None:
    """Remove a step from the schedule. Reminders it sent stay recorded on their invoices."""
    locked = ReminderStep.objects.select_for_update().filter(pk=step.pk).first()
    if locked is None:
        return
    audit_record(
        actor=actor,
        action="billing.reminder_step_deleted",
        obj=locked,
        object_repr=f"{locked.offset_days:+d}",
        before={"offset_days": locked.offset_days, "kind": locked.kind},
    )
    locked.delete()
