"""Document number series: gap-free, consecutive and never reused, per tenant (each tenant has its own schema and
so its own counter rows: one tenant's finalizations never wait for another's)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from billing.models import NumberSeries
from commerce_hub.accounts.models import AuditEntry
from commerce_hub.accounts.services.audit import audit_record

DEFAULTS = {
    NumberSeries.INVOICE: ("INV", 1001),
    NumberSeries.CREDIT_NOTE: ("CN", 1001),
    NumberSeries.QUOTE: ("Q", 1001),
}
PREFIX_CHARACTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/"
MAX_START = 10**12


def number_series_register(key: str, *, prefix: str, start: int) -> None:
    """Apps above billing number their own documents (receipts) through the same gap-free counters."""
    DEFAULTS[key] = (prefix, start)


SEPARATORS = "-/"


def prefix_normalize(prefix: str) -> str:
    """The number adds its own dash: "NLS-" and "nls" are both the prefix NLS (never NLS--5001)."""
    return prefix.strip().upper().strip(SEPARATORS)


def number_format(prefix: str, sequence: int) -> str:
    # Series saved before prefixes were normalised may still hold a trailing dash or slash.
    prefix = prefix.strip(SEPARATORS)
    return f"{prefix}-{sequence}" if prefix else str(sequence)


def _prefixes_used(key: str) -> set[str]:
    """Every prefix a series has numbered with: its current one and each one it had before (the audit trail
    of number_series_update keeps them). A document numbered under an old prefix keeps that number forever."""
    used = {prefix_normalize(number_series_get(key).prefix)}
    befores = AuditEntry.objects.filter(action="billing.number_series_changed", object_repr=key).values_list(
        "before", flat=True
    )
    used.update(prefix_normalize(before["prefix"]) for before in befores if before and before.get("prefix"))
    return used


def number_series_get(key: str) -> NumberSeries:
    prefix, start = DEFAULTS[key]
    series, _created = NumberSeries.objects.get_or_create(key=key, defaults={"prefix": prefix, "next_number": start})
    return series


def number_take(*, key: str) -> tuple[str, int]:
    """The next number of a series, inside the caller's transaction.

    One UPDATE ... RETURNING both advances the counter and takes the row lock, which is held until the caller's
    transaction ends: a concurrent finalization waits here, and if the caller rolls back, the counter rolls back
    with it, so the next finalization gets the same number and no gap opens. The unique constraint on the
    document's number backs this up.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("number_take must run inside the finalizing transaction.")
    number_series_get(key)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE billing_numberseries SET next_number = next_number + 1, last_used = next_number "
            "WHERE key = %s RETURNING prefix, last_used",
            [key],
        )
        prefix, sequence = cursor.fetchone()
    return number_format(prefix, sequence), sequence


def number_series_update(*, key: str, prefix: str, start_number: int, actor) -> NumberSeries:
    """Change a series' prefix and next number. The next number must be above every number already handed out,
    so no number is ever issued twice; a new prefix applies to documents numbered from now on."""
    prefix = prefix_normalize(prefix)
    errors: dict[str, list[str]] = {}
    if not prefix or any(ch not in PREFIX_CHARACTERS for ch in prefix) or len(prefix) > 12:
        errors["prefix"] = [_("Use 1 to 12 letters, digits, dashes or slashes.")]
    if not 1 <= start_number < MAX_START:
        errors["start_number"] = [_("Enter a whole number from 1 to 999,999,999,999.")]
    with transaction.atomic():
        series = NumberSeries.objects.select_for_update().get(pk=number_series_get(key).pk)
        # Two series with one prefix would print the same number on two documents (INV-1001 twice). A prefix
        # another series numbered with before is refused too: its documents keep those numbers (credit notes
        # moved from CN to CRN still hold CN-1002, which invoices prefixed CN would print again).
        for other in DEFAULTS:
            if other == key or "prefix" in errors:
                continue
            if prefix_normalize(number_series_get(other).prefix) == prefix:
                errors["prefix"] = [
                    _("Another document series already uses the prefix %(prefix)s.") % {"prefix": prefix}
                ]
            elif prefix in _prefixes_used(other):
                errors["prefix"] = [
                    _(
                        "Another document series was numbered with the prefix %(prefix)s before, so its numbers "
                        "would repeat. Choose another prefix."
                    )
                    % {"prefix": prefix}
                ]
        if series.last_used is not None and start_number <= series.last_used and start_number != series.next_number:
            errors["start_number"] = [
                _("Number %(used)d is already used. Start at %(next)d or higher.")
                % {"used": series.last_used, "next": series.last_used + 1}
            ]
        if errors:
            raise ValidationError(errors)
        before = {"prefix": series.prefix, "next_number": series.next_number}
        series.prefix = prefix
        series.next_number = start_number
        series.save(update_fields=["prefix", "next_number"])
        if before != {"prefix": prefix, "next_number": start_number}:
            audit_record(
                actor=actor,
                action="billing.number_series_changed",
                obj=series,
                object_repr=key,
                before=before,
                after={"prefix": prefix, "next_number": start_number},
            )
    return series


def numbers_take(*, key: str, count: int) -> list[tuple[str, int]]:
    """`count` consecutive numbers of a series for a batch of documents, in one statement: the counter row is
    locked once for the whole batch (not once per document), until the caller's transaction ends. Gap-free for the
    same reason as number_take: a rollback gives every number of the batch back."""
    if count <= 0:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("numbers_take must run inside the finalizing transaction.")
    number_series_get(key)
    with connection.cursor() as cursor:
        # Right-hand sides read the row as it was: last_used becomes the last number of this batch.
        cursor.execute(
            "UPDATE billing_numberseries SET next_number = next_number + %s, last_used = next_number + %s - 1 "
            "WHERE key = %s RETURNING prefix, last_used",
            [count, count, key],
        )
        prefix, last = cursor.fetchone()
    return [(number_format(prefix, sequence), sequence) for sequence in range(last - count + 1, last + 1)]
