"""Checking CSV rows: every mapped cell through crm.fields.parse_value, then duplicates within the file and against
the records already stored. Validation and the write run the same checks, so the write refuses exactly what the
report showed, plus whatever changed in between (a contact saved by someone else meanwhile)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from crm.fields import FieldSpec, parse_value, spec_map
from crm.models import Company, Contact, Pipeline

# Field types whose parsing queries the database: parsed once per distinct value, not once per row.
_LOOKUP_TYPES = {"lifecycle", "owner", "company", "stage"}
_DEFAULT_COUNTRY = Company._meta.get_field("country").default
_DOMAIN_LIKE = re.compile(r"(https?://)?[a-z0-9-]+(\.[a-z0-9-]+)+/?", re.IGNORECASE)


def _company_id(spec: FieldSpec, raw: str, *, context: dict) -> int:
    """A company by domain when the cell looks like one ("acme.nl", "https://acme.nl/"), else by name.

    Unlike a form, where a dot means a domain, a CSV cell often holds a legal name with dots ("Acme B.V."), so a
    cell that is not shaped like a domain, or matches no domain, is looked up by name.
    """
    text = raw.strip()
    if text.isdigit():
        return parse_value(spec, text, context=context)
    ids: list[int] = []
    if _DOMAIN_LIKE.fullmatch(text):
        domain = re.sub(r"^https?://", "", text.lower()).strip("/")
        ids = list(Company.objects.filter(domain__iexact=domain).values_list("pk", flat=True)[:2])
    if not ids:
        ids = list(Company.objects.filter(name__iexact=text).values_list("pk", flat=True)[:2])
    if not ids:
        raise ValidationError(_("No company “%(value)s”.") % {"value": text})
    if len(ids) > 1:
        raise ValidationError(_("More than one company is called “%(value)s”; use its domain.") % {"value": text})
    return ids[0]


@dataclass
class RowResult:
    row_number: int
    values: dict = field(default_factory=dict)  # field key -> parsed value
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (CSV column, cell, message)
    cells: dict = field(default_factory=dict)  # field key -> (CSV column, cell), for messages about the row

    def error(self, key: str, message: str) -> None:
        column, raw = self.cells.get(key, ("", ""))
        self.errors.append((column, raw, message))


class RowChecker:
    def __init__(self, *, object_type: str, headers: list[str], mapping: dict[str, str]):
        self.object_type = object_type
        specs = spec_map(object_type)
        # (column index, CSV header, spec) of every mapped column, in the file's order.
        self.columns = [
            (index, header, specs[mapping[header]])
            for index, header in enumerate(headers)
            if header and mapping.get(header) in specs
        ]
        # The columns other cells are read against: a VAT number against the row's country, an amount its currency.
        self.context_columns = [c for c in self.columns if c[2].key in ("country", "amount_currency")]
        self.pipeline_id = (
            Pipeline.objects.filter(is_default=True).values_list("pk", flat=True).first()
            if object_type == "deal"
            else None
        )
        self._lookups: dict[tuple[str, str], tuple[object, list[str] | None]] = {}
        self._seen: dict[str, int] = {}  # email (contacts) or domain (companies) -> first row that has it

    def _parse(self, spec: FieldSpec, raw: str, context: dict):
        if spec.type not in _LOOKUP_TYPES or not raw.strip():
            return parse_value(spec, raw, context=context)
        memo_key = (spec.key, raw.strip().lower())
        if memo_key not in self._lookups:
            parse = _company_id if spec.type == "company" else parse_value
            try:
                self._lookups[memo_key] = (parse(spec, raw, context=context), None)
            except ValidationError as exc:
                self._lookups[memo_key] = (None, exc.messages)
        value, messages = self._lookups[memo_key]
        if messages:
            raise ValidationError(messages)
        return value

    def check_row(self, row_number: int, cells: list[str]) -> RowResult:
        result = RowResult(row_number=row_number)
        context = {"country": _DEFAULT_COUNTRY, "currency": "EUR", "pipeline": self.pipeline_id}
        for index, _header, spec in self.context_columns:
            try:
                value = parse_value(spec, cells[index] if index < len(cells) else "")
            except ValidationError:
                continue  # reported with the other cells below
            if value:
                context["country" if spec.key == "country" else "currency"] = value
        for index, header, spec in self.columns:
            raw = cells[index] if index < len(cells) else ""
            result.cells[spec.key] = (header, raw)
            try:
                value = self._parse(spec, raw, context)
            except ValidationError as exc:
                for message in exc.messages:
                    result.errors.append((header, raw, message))
                continue
            result.values[spec.key] = value
        return result

    def _unique_key(self) -> str | None:
        return {"contact": "email", "company": "domain"}.get(self.object_type)

    def check_batch(self, rows: list[tuple[int, list[str]]]) -> list[RowResult]:
        results = [self.check_row(row_number, cells) for row_number, cells in rows]
        key = self._unique_key()
        if key is None:
            return results
        fresh: dict[str, RowResult] = {}
        for result in results:
            value = result.values.get(key)
            if not value:
                continue
            first = self._seen.get(value)
            if first is not None:
                message = (
                    _("This email is also in row %(row)s.")
                    if key == "email"
                    else _("This domain is also in row %(row)s.")
                )
                result.error(key, message % {"row": first})
                continue
            self._seen[value] = result.row_number
            fresh[value] = result
        for value in self._stored(key, list(fresh)):
            message = (
                _("A contact with this email already exists.")
                if key == "email"
                else _("A company with this domain already exists.")
            )
            fresh[value].error(key, message)
        return results

    def _stored(self, key: str, values: list[str]) -> set[str]:
        """The values (already lowercase) that stored records have, compared case-insensitively in one query."""
        if not values:
            return set()
        model = Contact if key == "email" else Company
        return set(
            model.objects.annotate(value_lower=Lower(key))
            .filter(value_lower__in=values)
            .values_list("value_lower", flat=True)
        )
