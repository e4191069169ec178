"""Settings → Payments: the processor a tenant uses, its Stripe connection, the built-in processor's fees and
timing, the payout schedule and the receipt's branding.

Each service is one transaction that locks the settings row, writes what changed, and appends one audit row with
the values before and after. Secrets never reach the audit log or a screen again: they are stored encrypted
(payments/crypto.py) and named by a hint (their last four characters). The services decide what is allowed, so any
caller gets the same refusals with the same messages next to the same fields.
"""

from __future__ import annotations

import re
import secrets
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.money import number_format
from payments.crypto import SecretUnreadable, secret_decrypt, secret_encrypt, secret_hint
from payments.models import PaymentSettings, PayoutSchedule, ProcessorKey
from payments.selectors.settings import payment_settings
from payments.services.stripe_connect import stripe_endpoint_ensure

PUBLISHABLE_KEY = re.compile(r"^pk_(test|live)_[A-Za-z0-9]{8,190}$")
SECRET_KEY = re.compile(r"^(sk|rk)_(test|live)_[A-Za-z0-9]{8,190}$")
SIGNING_SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=]{8,190}$")
# Enough for a rotation (the old and the new secret) and an endpoint moved between accounts; more is a mistake.
MAX_SIGNING_SECRETS = 4

MAX_PERCENT = Decimal(20)
MAX_FIXED_FEE = Decimal(1000)
SETTLEMENT_DELAY_DAYS = (0, 30)
DEBIT_PROCESSING_DAYS = (1, 14)
MAX_FOOTER = 2000
ACCENT_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

FEE_FIELDS = (
    "card_fee_percent",
    "card_fee_fixed",
    "redirect_fee_percent",
    "redirect_fee_fixed",
    "debit_fee_percent",
    "debit_fee_cap",
    "dispute_fee",
)
PERCENT_FIELDS = ("card_fee_percent", "redirect_fee_percent", "debit_fee_percent")


def _plain(value):
    return f"{value:f}" if isinstance(value, Decimal) else value


def _locked() -> PaymentSettings:
    return PaymentSettings.objects.select_for_update().get(pk=payment_settings().pk)


def _save(*, actor, action: str, row: PaymentSettings, values: dict, secret_fields: tuple[str, ...] = ()) -> bool:
    """Write `values` to the locked row and audit what changed (nothing changed: nothing written, no audit row).
    Fields in `secret_fields` are written but never audited (their hints are)."""
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    if not changed:
        return False
    audited = [name for name in changed if name not in secret_fields]
    before = {name: _plain(getattr(row, name)) for name in audited}
    for name in changed:
        setattr(row, name, values[name])
    row.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=actor, action=action, obj=row, before=before, after={name: _plain(values[name]) for name in audited}
    )
    return True


def stripe_connected(row: PaymentSettings) -> bool:
    return bool(row.stripe_publishable_key and row.stripe_secret_key_encrypted)


def stripe_secret_key_readable(row: PaymentSettings) -> bool:
    if not row.stripe_secret_key_encrypted:
        return False
    try:
        secret_decrypt(row.stripe_secret_key_encrypted)
    except SecretUnreadable:
        return False
    return True


@transaction.atomic
def payment_processor_update(*, actor, processor: str) -> PaymentSettings:
    """Which processor new payments go through. Payments already started finish with the processor they began
    with (each payment row names its own)."""
    row = _locked()
    if processor not in ProcessorKey.values:
        raise ValidationError({"processor": [_("Choose one of the processors listed.")]})
    if processor == ProcessorKey.STRIPE and not (stripe_connected(row) and stripe_secret_key_readable(row)):
        raise ValidationError({"processor": [_("Connect Stripe first: enter the publishable and the secret key.")]})
    _save(actor=actor, action="payments.processor_changed", row=row, values={"processor": processor})
    return row


@transaction.atomic
def stripe_keys_update(*, actor, publishable_key: str, secret_key: str = "") -> PaymentSettings:
    """Connect the tenant's own Stripe account. An empty secret key keeps the one stored (it is never shown, so
    the form cannot send it back). The first connection creates the webhook endpoint whose URL goes into Stripe."""
    row = _locked()
    publishable_key, secret_key = publishable_key.strip(), secret_key.strip()
    errors: dict[str, list[str]] = {}
    if not PUBLISHABLE_KEY.match(publishable_key):
        errors["publishable_key"] = [_("A publishable key starts with pk_test_ or pk_live_.")]
    if secret_key and not SECRET_KEY.match(secret_key):
        errors["secret_key"] = [_("A secret key starts with sk_test_ or sk_live_ (rk_ for a restricted key).")]
    elif not secret_key and not stripe_secret_key_readable(row):
        errors["secret_key"] = [_("Enter the secret key.")]
    if not errors:
        current = secret_key or secret_decrypt(row.stripe_secret_key_encrypted)
        if ("_test_" in publishable_key) != ("_test_" in current):
            errors["secret_key" if secret_key else "publishable_key"] = [
                _("Both keys must be test keys, or both live keys.")
            ]
    if errors:
        raise ValidationError(errors)
    values: dict = {"stripe_publishable_key": publishable_key}
    if secret_key and not (
        stripe_secret_key_readable(row) and secret_decrypt(row.stripe_secret_key_encrypted) == secret_key
    ):
        values |= {
            "stripe_secret_key_encrypted": secret_encrypt(secret_key),
            "stripe_secret_key_hint": secret_hint(secret_key),
        }
    _save(
        actor=actor,
        action="payments.stripe_keys_changed",
        row=row,
        values=values,
        secret_fields=("stripe_secret_key_encrypted",),
    )
    stripe_endpoint_ensure()
    return row


def _signing_entries(row: PaymentSettings) -> list[dict]:
    return [entry for entry in (row.stripe_webhook_secrets_encrypted or []) if isinstance(entry, dict)]


@transaction.atomic
def stripe_signing_secret_add(*, actor, secret: str) -> PaymentSettings:
    """Accept one more webhook signing secret: during a rotation Stripe signs with both, and either is accepted."""
    row = _locked()
    secret = secret.strip()
    if not SIGNING_SECRET.match(secret):
        raise ValidationError(
            {"secret": [_("A signing secret starts with whsec_. Copy it from the endpoint in Stripe.")]}
        )
    entries = _signing_entries(row)
    for entry in entries:
        try:
            if secret_decrypt(entry.get("token", "")) == secret:
                raise ValidationError({"secret": [_("This signing secret is already saved.")]})
        except SecretUnreadable:
            continue
    if len(entries) >= MAX_SIGNING_SECRETS:
        raise ValidationError(
            {
                "secret": [
                    _("Remove an old signing secret first; at most %(max)d are kept.") % {"max": MAX_SIGNING_SECRETS}
                ]
            }
        )
    entry = {
        "id": secrets.token_hex(6),
        "token": secret_encrypt(secret),
        "hint": secret_hint(secret),
        "added_at": timezone.now().isoformat(),
    }
    row.stripe_webhook_secrets_encrypted = [entry, *entries]  # newest first: it is tried first
    row.save(update_fields=["stripe_webhook_secrets_encrypted", "updated_at"])
    audit_record(
        actor=actor,
        action="payments.stripe_signing_secret_added",
        obj=row,
        before={"signing_secrets": [e.get("hint", "") for e in entries]},
        after={"signing_secrets": [e.get("hint", "") for e in row.stripe_webhook_secrets_encrypted]},
    )
    stripe_endpoint_ensure()
    return row


@transaction.atomic
def stripe_signing_secret_remove(*, actor, secret_id: str) -> PaymentSettings:
    row = _locked()
    entries = _signing_entries(row)
    kept = [entry for entry in entries if entry.get("id") != secret_id]
    if len(kept) == len(entries):
        raise ValidationError(_("That signing secret was already removed."))
    row.stripe_webhook_secrets_encrypted = kept
    row.save(update_fields=["stripe_webhook_secrets_encrypted", "updated_at"])
    audit_record(
        actor=actor,
        action="payments.stripe_signing_secret_removed",
        obj=row,
        before={"signing_secrets": [e.get("hint", "") for e in entries]},
        after={"signing_secrets": [e.get("hint", "") for e in kept]},
    )
    return row


def _decimal_error(value, *, maximum: Decimal, places: int) -> str | None:
    if value is None:
        return _("Enter a number.")
    value = Decimal(value)
    if not value.is_finite() or value < 0:
        return _("Enter zero or more.")
    if value > maximum:
        return _("Enter at most %(max)s.") % {"max": number_format(maximum)}
    if value != value.quantize(Decimal(1).scaleb(-places)):
        return _("Use at most %(places)d decimals.") % {"places": places}
    return None


@transaction.atomic
def builtin_processing_update(
    *,
    actor,
    card_fee_percent: Decimal,
    card_fee_fixed: Decimal,
    redirect_fee_percent: Decimal,
    redirect_fee_fixed: Decimal,
    debit_fee_percent: Decimal,
    debit_fee_cap: Decimal,
    dispute_fee: Decimal,
    settlement_delay_days: int,
    debit_processing_days: int,
) -> PaymentSettings:
    """The built-in processor's fee schedule (a percentage plus a fixed part for cards, wallets and bank redirects,
    a capped percentage for debits, a fee per dispute) and its timing: when collected money can be paid out, and
    how long a bank debit stays processing. Applies to payments made from now on."""
    row = _locked()
    values = {
        "card_fee_percent": card_fee_percent,
        "card_fee_fixed": card_fee_fixed,
        "redirect_fee_percent": redirect_fee_percent,
        "redirect_fee_fixed": redirect_fee_fixed,
        "debit_fee_percent": debit_fee_percent,
        "debit_fee_cap": debit_fee_cap,
        "dispute_fee": dispute_fee,
    }
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        if name in PERCENT_FIELDS:
            error = _decimal_error(value, maximum=MAX_PERCENT, places=3)
        else:
            error = _decimal_error(value, maximum=MAX_FIXED_FEE, places=4)
        if error:
            errors[name] = [error]
    for name, value, (low, high) in (
        ("settlement_delay_days", settlement_delay_days, SETTLEMENT_DELAY_DAYS),
        ("debit_processing_days", debit_processing_days, DEBIT_PROCESSING_DAYS),
    ):
        if value is None or not low <= value <= high:
            errors[name] = [_("Enter between %(low)d and %(high)d days.") % {"low": low, "high": high}]
    if errors:
        raise ValidationError(errors)
    values = {name: Decimal(value) for name, value in values.items()}
    values |= {"settlement_delay_days": settlement_delay_days, "debit_processing_days": debit_processing_days}
    _save(actor=actor, action="payments.builtin_processing_changed", row=row, values=values)
    return row


@transaction.atomic
def payout_schedule_update(*, actor, payout_schedule: str, payout_weekday: int | None, payout_monthday: int | None):
    """When the built-in processor pays out the available balance: every day, one weekday, one day of the month
    (the last day in shorter months), or only when asked."""
    row = _locked()
    errors: dict[str, list[str]] = {}
    if payout_schedule not in PayoutSchedule.values:
        errors["payout_schedule"] = [_("Choose one of the schedules listed.")]
    values: dict = {"payout_schedule": payout_schedule}
    if payout_schedule == PayoutSchedule.WEEKLY:
        if payout_weekday is None or not 0 <= payout_weekday <= 6:
            errors["payout_weekday"] = [_("Choose the day of the week.")]
        values["payout_weekday"] = payout_weekday
    if payout_schedule == PayoutSchedule.MONTHLY:
        if payout_monthday is None or not 1 <= payout_monthday <= 31:
            errors["payout_monthday"] = [_("Enter a day of the month from 1 to 31.")]
        values["payout_monthday"] = payout_monthday
    if errors:
        raise ValidationError(errors)
    _save(actor=actor, action="payments.payout_schedule_changed", row=row, values=values)
    return row


@transaction.atomic
def receipt_branding_update(*, actor, receipt_footer: str, receipt_accent_color: str) -> PaymentSettings:
    """What every receipt prints below its lines, and the colour of its headings and rules. The logo is the
    company's (Settings → Branding)."""
    row = _locked()
    receipt_footer = receipt_footer.strip()
    colour = receipt_accent_color.strip()
    errors: dict[str, list[str]] = {}
    if len(receipt_footer) > MAX_FOOTER:
        errors["receipt_footer"] = [_("Keep this under %(max)s characters.") % {"max": number_format(MAX_FOOTER)}]
    if not ACCENT_COLOUR.match(colour):
        errors["receipt_accent_color"] = [_("Enter a colour as # and six hexadecimal digits, like #1f6feb.")]
    if errors:
        raise ValidationError(errors)
    _save(
        actor=actor,
        action="payments.receipt_branding_changed",
        row=row,
        values={"receipt_footer": receipt_footer, "receipt_accent_color": colour.lower()},
    )
    return row
