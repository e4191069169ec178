"""The fields of companies, contacts and deals, described once.

Index columns, filters, sorting, CSV export and import, inline edit and bulk edit all read these specs, so a field
behaves the same everywhere. Custom properties join as specs with keys "p:<key>".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX, money_too_large_message
from commerce_hub.numbers import parse_decimal_localized
from commerce_hub.organization.models import COUNTRY_CHOICES
from commerce_hub.text import is_id
from commerce_hub.validators import registration_number_normalize, vat_number_normalize

MAX_AMOUNT = MONEY_MAX  # one bound for every amount (commerce_hub.money)
ALWAYS_SET = {"lifecycle", "country", "language", "currency"}


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    type: str  # text, email, choice, country, language, currency, lifecycle, owner, company, stage, date, money, ...
    attr: str = ""  # model attribute ("" for custom properties)
    required: bool = False
    sortable: bool = True
    editable: bool = True
    default_column: bool = False
    choices: tuple = field(default_factory=tuple)  # (value, label) for choice-like custom properties

    @property
    def is_custom(self) -> bool:
        return self.key.startswith("p:")

    @property
    def property_key(self) -> str:
        return self.key[2:]


def _spec(key, label, type_, attr=None, **kw) -> FieldSpec:
    return FieldSpec(key=key, label=label, type=type_, attr=attr or key, **kw)


_L = gettext_lazy
BUILTIN: dict[str, list[FieldSpec]] = {
    "company": [
        _spec("name", _L("Name"), "text", required=True, default_column=True),
        _spec("domain", _L("Domain"), "domain", default_column=True),
        _spec("vat_number", _L("VAT number"), "vat"),
        _spec("registration_number", _L("Registration number"), "registration"),
        _spec("address_line1", _L("Address"), "text"),
        _spec("postal_code", _L("Postal code"), "text"),
        _spec("city", _L("City"), "text", default_column=True),
        _spec("country", _L("Country"), "country", default_column=True),
        _spec("phone", _L("Phone"), "phone"),
        _spec("lifecycle_stage", _L("Lifecycle stage"), "lifecycle", default_column=True),
        _spec("owner", _L("Owner"), "owner", attr="owner_id", default_column=True),
        _spec("language", _L("Preferred language"), "language"),
        _spec("currency", _L("Currency"), "currency"),
        _spec("created_at", _L("Created"), "datetime", editable=False),
        _spec("updated_at", _L("Last modified"), "datetime", editable=False),
    ],
    "contact": [
        _spec("first_name", _L("First name"), "text", required=True, default_column=True),
        _spec("last_name", _L("Last name"), "text", default_column=True),
        _spec("email", _L("Email"), "email", required=True, default_column=True),
        _spec("phone", _L("Phone"), "phone"),
        _spec("job_title", _L("Job title"), "text"),
        _spec("company", _L("Company"), "company", attr="company_id", default_column=True),
        _spec("lifecycle_stage", _L("Lifecycle stage"), "lifecycle", default_column=True),
        _spec("owner", _L("Owner"), "owner", attr="owner_id", default_column=True),
        _spec("language", _L("Preferred language"), "language"),
        _spec("created_at", _L("Created"), "datetime", editable=False),
        _spec("updated_at", _L("Last modified"), "datetime", editable=False),
    ],
    "deal": [
        _spec("name", _L("Name"), "text", required=True, default_column=True),
        _spec("amount", _L("Amount"), "money", default_column=True),
        _spec("amount_currency", _L("Currency"), "currency"),
        _spec("stage", _L("Stage"), "stage", attr="stage_id", required=True, default_column=True),
        _spec("close_date", _L("Close date"), "date", default_column=True),
        _spec("company", _L("Company"), "company", attr="company_id", default_column=True),
        _spec("owner", _L("Owner"), "owner", attr="owner_id", default_column=True),
        _spec("created_at", _L("Created"), "datetime", editable=False),
        _spec("updated_at", _L("Last modified"), "datetime", editable=False),
    ],
}


def _definitions(object_type: str) -> list[tuple]:
    """(key, label, type, choices, archived) of the custom properties, cached per tenant: every index page, form
    and import reads them, and they change only when an admin edits them (see specs_forget)."""
    from django.core.cache import cache

    from crm.models import PropertyDefinition

    cache_key = f"crm:property-definitions:{object_type}"
    rows = cache.get(cache_key)
    if rows is None:
        rows = list(
            PropertyDefinition.objects.filter(object_type=object_type).values_list(
                "key", "label", "type", "choices", "is_archived"
            )
        )
        cache.set(cache_key, rows, timeout=3600)
    return rows


def specs_forget() -> None:
    from django.core.cache import cache

    cache.delete_many([f"crm:property-definitions:{t}" for t in BUILTIN])


def specs_for(object_type: str, *, include_archived: bool = False) -> list[FieldSpec]:
    custom = [
        FieldSpec(
            key=f"p:{key}", label=label, type=f"p_{kind}", choices=tuple((c["value"], c["label"]) for c in choices)
        )
        for key, label, kind, choices, archived in _definitions(object_type)
        if include_archived or not archived
    ]
    return BUILTIN[object_type] + custom


def spec_map(object_type: str) -> dict[str, FieldSpec]:
    return {s.key: s for s in specs_for(object_type)}


# --- parsing: text from a form, a CSV cell or an inline edit, into the value to store ---------------------------


def parse_date_localized(raw: str) -> date:
    """ISO dates everywhere, and the reader's own day-month-year order (31-12-2026, 31.12.2026, 31/12/2026)."""
    text = raw.strip()
    value = parse_date(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None
    if value is None:
        match = re.fullmatch(r"(\d{1,2})[-./](\d{1,2})[-./](\d{4})", text)
        if match:
            first, second, year = (int(g) for g in match.groups())
            day, month = (second, first) if translation.get_language() == "en-us" else (first, second)
            try:
                value = date(year, month, day)
            except ValueError:
                value = None
    if value is None:
        raise ValidationError(_("“%(value)s” is not a date; use 2026-12-31 or 31-12-2026.") % {"value": raw})
    return value


def parse_value(spec: FieldSpec, raw, *, context: dict | None = None):
    """Turn user input into the stored value, or raise ValidationError with a message for that field.

    `context` carries what a lookup needs: {"country": ..., "pipeline": ...} for VAT numbers and stages.
    """
    context = context or {}
    if isinstance(raw, str):
        raw = raw.strip()
    if raw in (None, ""):
        # Fields that always hold a value (a stage, a country, a currency...) cannot be emptied either.
        if spec.required or spec.type in ALWAYS_SET:
            raise ValidationError(_("This field is required."))
        return None if spec.type in {"owner", "company", "date", "money", "stage"} or spec.is_custom else ""
    kind = spec.type
    if kind == "text" or kind == "phone":
        return str(raw)[:200]
    if kind == "domain":
        value = re.sub(r"^https?://", "", str(raw).lower()).strip("/")
        if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", value):
            raise ValidationError(_("“%(value)s” is not a domain like example.com.") % {"value": raw})
        return value
    if kind == "email":
        value = str(raw).lower()
        try:
            validate_email(value)
        except ValidationError as exc:
            raise ValidationError(_("“%(value)s” is not a valid email address.") % {"value": raw}) from exc
        return value
    if kind == "vat":
        return vat_number_normalize(str(raw), context.get("country", ""))
    if kind == "registration":
        return registration_number_normalize(str(raw), context.get("country", ""))
    if kind == "country":
        value = str(raw).upper()
        labels = {str(label).lower(): code for code, label in COUNTRY_CHOICES}
        value = labels.get(value.lower(), value)
        if value not in dict(COUNTRY_CHOICES):
            raise ValidationError(_("“%(value)s” is not a country we know.") % {"value": raw})
        return value
    if kind == "language":
        value = str(raw).lower()
        if value not in dict(settings.LANGUAGES):
            raise ValidationError(_("Use one of: %(options)s.") % {"options": ", ".join(dict(settings.LANGUAGES))})
        return value
    if kind == "currency":
        value = str(raw).upper()
        if value not in settings.CURRENCIES:
            raise ValidationError(_("“%(value)s” is not a currency we accept.") % {"value": raw})
        return value
    if kind == "lifecycle":
        from crm.models import LifecycleStage

        stages = {s.key: s.key for s in LifecycleStage.objects.filter(is_active=True)}
        stages |= {s.label.lower(): s.key for s in LifecycleStage.objects.filter(is_active=True)}
        key = stages.get(str(raw).lower()) or stages.get(str(raw))
        if key is None:
            raise ValidationError(_("“%(value)s” is not a lifecycle stage.") % {"value": raw})
        return key
    if kind == "owner":
        from commerce_hub.accounts.models import User

        user = (
            User.objects.filter(is_active=True)
            .filter(**({"pk": raw} if is_id(raw) else {"email__iexact": raw}))
            .first()
        )
        if user is None:
            raise ValidationError(_("No active user “%(value)s”.") % {"value": raw})
        return user.pk
    if kind == "company":
        from crm.models import Company

        qs = (
            Company.objects.filter(pk=raw)
            if is_id(raw)
            else (
                Company.objects.filter(domain__iexact=str(raw))
                if "." in str(raw)
                else Company.objects.filter(name__iexact=str(raw))
            )
        )
        ids = list(qs.values_list("pk", flat=True)[:2])
        if not ids:
            raise ValidationError(_("No company “%(value)s”.") % {"value": raw})
        if len(ids) > 1:
            raise ValidationError(_("More than one company is called “%(value)s”; use its domain.") % {"value": raw})
        return ids[0]
    if kind == "stage":
        from crm.models import Stage

        pipeline = context.get("pipeline")
        qs = Stage.objects.filter(pipeline=pipeline) if pipeline else Stage.objects.all()
        stage = qs.filter(pk=raw).first() if is_id(raw) else qs.filter(name__iexact=str(raw)).first()
        if stage is None:
            raise ValidationError(_("“%(value)s” is not a stage of this pipeline.") % {"value": raw})
        return stage.pk
    if kind == "date" or kind == "p_date":
        value = raw if isinstance(raw, date) else parse_date_localized(str(raw))
        return value if kind == "date" else value.isoformat()
    if kind == "money":
        value = raw if isinstance(raw, Decimal) else parse_decimal_localized(str(raw))
        if value < 0:
            raise ValidationError(_("The amount cannot be negative."))
        if value > MAX_AMOUNT:
            raise ValidationError(money_too_large_message())
        if value.normalize().as_tuple().exponent < -MONEY_DECIMAL_PLACES:
            raise ValidationError(_("Use at most %(count)d decimals.") % {"count": MONEY_DECIMAL_PLACES})
        return value
    if kind == "p_text":
        return str(raw)[:1000]
    if kind == "p_number":
        value = raw if isinstance(raw, Decimal) else parse_decimal_localized(str(raw))
        if abs(value) > Decimal("1e15"):
            raise ValidationError(_("That number is too large."))
        return str(value)
    if kind == "p_boolean":
        text = str(raw).strip().lower()
        truthy = {"1", "true", "yes", "y", "ja", "j", "on"}
        falsy = {"0", "false", "no", "n", "nee", "nei", "off"}
        if text in truthy:
            return True
        if text in falsy:
            return False
        raise ValidationError(_("Use yes or no."))
    if kind == "p_choice":
        options = {str(v).lower(): v for v, _label in spec.choices} | {str(lbl).lower(): v for v, lbl in spec.choices}
        value = options.get(str(raw).lower())
        if value is None:
            raise ValidationError(_("“%(value)s” is not one of the options.") % {"value": raw})
        return value
    if kind == "p_money":
        amount_text, _sep, currency = str(raw).rpartition(" ")
        if not amount_text:
            amount_text, currency = currency, context.get("currency", "EUR")
        amount = parse_decimal_localized(amount_text)
        currency = currency.upper()
        if currency not in settings.CURRENCIES:
            raise ValidationError(_("“%(value)s” is not a currency we accept.") % {"value": currency})
        if abs(amount) > MAX_AMOUNT:
            raise ValidationError(money_too_large_message())
        return {"amount": str(amount), "currency": currency}
    raise ValidationError(_("This field cannot be set here."))


def record_value(record, spec: FieldSpec):
    if spec.is_custom:
        return (record.properties or {}).get(spec.property_key)
    if spec.type == "money":
        return record.amount
    return getattr(record, spec.attr)
