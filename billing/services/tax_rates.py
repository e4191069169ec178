"""Writes to the tax rates library.

A rate on a finalized document is locked (locked_at): documents must keep printing the rate they were issued with, so
a locked rate is never edited, only archived and replaced by a new one. Archived rates stay on everything that has
them and are no longer offered for new products and lines.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import events
from billing.models import TaxRate
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.services import event_emit
from commerce_hub.organization.models import COUNTRY_CHOICES

ZERO_CATEGORIES = (TaxRate.Category.ZERO, TaxRate.Category.EXEMPT, TaxRate.Category.REVERSE_CHARGE)


def locked_message() -> str:
    return _("This rate is on a finalized document; archive it and add a new one")


def _zero_message(category: str) -> str:
    return {
        TaxRate.Category.ZERO: _("A zero rate is 0%."),
        TaxRate.Category.EXEMPT: _("An exempt rate is 0%: no VAT is charged."),
        TaxRate.Category.REVERSE_CHARGE: _("A reverse-charge rate is 0%: the buyer accounts for the VAT."),
    }[category]


def _clean(*, name: str, rate: Decimal, category: str, country: str, exclude_pk: int | None) -> dict:
    name, country = (name or "").strip(), (country or "").strip().upper()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("This field is required.")]
    elif len(name) > 100:
        errors["name"] = [_("Use at most 100 characters.")]
    else:
        others = TaxRate.objects.filter(name__iexact=name, is_archived=False)
        if exclude_pk is not None:
            others = others.exclude(pk=exclude_pk)
        if others.exists():
            errors["name"] = [_("Another active rate is called “%(name)s”.") % {"name": name}]
    if category not in TaxRate.Category.values:
        errors["category"] = [_("Choose a category.")]
    if rate is None or not rate.is_finite() or rate < 0 or rate > 100:
        errors["rate"] = [_("Enter a rate from 0 to 100.")]
    elif rate.normalize().as_tuple().exponent < -2:
        errors["rate"] = [_("Use at most 2 decimals.")]
    elif category in ZERO_CATEGORIES and rate != 0:
        errors["rate"] = [_zero_message(category)]
    if country and country not in dict(COUNTRY_CHOICES):
        errors["country"] = [_("“%(value)s” is not a country we know.") % {"value": country}]
    if errors:
        raise ValidationError(errors)
    return {"name": name, "rate": rate, "category": category, "country": country}


def tax_rate_create(*, name: str, rate: Decimal, category: str, country: str = "", actor) -> TaxRate:
    with transaction.atomic():
        values = _clean(name=name, rate=rate, category=category, country=country, exclude_pk=None)
        last = TaxRate.objects.filter(country=values["country"]).aggregate(last=Max("position"))["last"]
        tax_rate = TaxRate.objects.create(**values, position=(last + 1) if last is not None else 0)
        audit_record(actor=actor, action="tax_rate.created", obj=tax_rate, after=_snapshot(tax_rate))
        event_emit(name=events.TAX_RATE_CREATED, payload={"id": tax_rate.pk})
    return tax_rate


def _snapshot(tax_rate: TaxRate) -> dict:
    return {
        "name": tax_rate.name,
        "rate": str(tax_rate.rate),
        "category": tax_rate.category,
        "country": tax_rate.country,
    }


def tax_rate_update(*, tax_rate: TaxRate, name: str, rate: Decimal, category: str, country: str = "", actor) -> TaxRate:
    with transaction.atomic():
        # The row lock orders this edit with a finalization that locks the rate at the same moment.
        locked = TaxRate.objects.select_for_update().get(pk=tax_rate.pk)
        if locked.locked_at is not None:
            raise ValidationError(locked_message())
        values = _clean(name=name, rate=rate, category=category, country=country, exclude_pk=locked.pk)
        before = _snapshot(locked)
        for key, value in values.items():
            setattr(locked, key, value)
        locked.save(update_fields=list(values))
        after = _snapshot(locked)
        if after != before:
            audit_record(actor=actor, action="tax_rate.updated", obj=locked, before=before, after=after)
            event_emit(name=events.TAX_RATE_UPDATED, payload={"id": locked.pk})
    return locked


def tax_rate_set_archived(*, tax_rate: TaxRate, archived: bool, actor) -> TaxRate:
    with transaction.atomic():
        locked = TaxRate.objects.select_for_update().get(pk=tax_rate.pk)
        if locked.is_archived == archived:
            return locked
        if not archived and (
            TaxRate.objects.filter(name__iexact=locked.name, is_archived=False).exclude(pk=locked.pk).exists()
        ):
            raise ValidationError(
                _("Another active rate is called “%(name)s”; rename one of them first.") % {"name": locked.name}
            )
        locked.is_archived = archived
        locked.save(update_fields=["is_archived"])
        audit_record(actor=actor, action="tax_rate.archived" if archived else "tax_rate.unarchived", obj=locked)
        event_emit(name=events.TAX_RATE_UPDATED, payload={"id": locked.pk, "fields": ["is_archived"]})
    return locked


def tax_rates_lock(*, tax_rate_ids: list[int]) -> int:
    """Mark rates as used on a finalized document. Call inside the finalizing transaction; locking twice is a no-op."""
    return TaxRate.objects.filter(pk__in=tax_rate_ids, locked_at__isnull=True).update(locked_at=timezone.now())
