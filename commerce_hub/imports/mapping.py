"""Which CSV column fills which field: guessed from the header names, then corrected by the user.

A field is anything with `key`, `label`, `required` and `editable` (crm.fields.FieldSpec has them all); custom
properties also offer their own key (`is_custom`, `property_key`) as a header name.
"""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import gettext as _

GUESS_LANGUAGES = ("nl", "nb")  # labels are also recognised in these languages, besides English


def normalize_header(text: str) -> str:
    return re.sub(r"[^0-9a-zæøåäöüéèàç]", "", str(text).lower())


def importable_specs(specs: list) -> list:
    return [s for s in specs if getattr(s, "editable", True)]


def _candidates(specs: list, synonyms: dict[str, list[str]]) -> dict[str, str]:
    """Normalized header -> field key. Earlier sources win: keys and English labels, then translated labels,
    then synonyms."""
    found: dict[str, str] = {}

    def add(text, key):
        normalized = normalize_header(text)
        if normalized:
            found.setdefault(normalized, key)

    for spec in specs:
        add(spec.key, spec.key)
        if getattr(spec, "is_custom", False):
            add(spec.property_key, spec.key)
        with translation.override("en"):
            add(str(spec.label), spec.key)
    for language in GUESS_LANGUAGES:
        with translation.override(language):
            for spec in specs:
                add(str(spec.label), spec.key)
    keys = {s.key for s in specs}
    for key, words in synonyms.items():
        if key in keys:
            for word in words:
                add(word, key)
    return found


def mapping_guess(*, specs: list, headers: list[str], synonyms: dict[str, list[str]] | None = None) -> dict[str, str]:
    """CSV header -> field key ("" = ignore). A field is filled from the first column that matches it.
    `synonyms` are other header names people use for a field (field key -> names), as spreadsheets and other
    systems export them."""
    candidates = _candidates(importable_specs(specs), synonyms or {})
    mapping, used = {}, set()
    for header in headers:
        if not header:
            continue
        key = candidates.get(normalize_header(header), "")
        if key in used:
            key = ""
        mapping[header] = key
        if key:
            used.add(key)
    return mapping


def mapping_errors(*, specs: list, headers: list[str], mapping: dict[str, str]) -> dict[str | None, list]:
    """Errors keyed by CSV header, or None for the mapping as a whole."""
    by_key = {s.key: s for s in importable_specs(specs)}
    errors: dict[str | None, list] = {}
    taken: dict[str, str] = {}
    for header in headers:
        key = mapping.get(header, "")
        if not header or not key:
            continue
        if key not in by_key:
            errors.setdefault(header, []).append(_("Choose a field from the list."))
        elif key in taken:
            errors.setdefault(header, []).append(
                _("“%(field)s” is already filled from the column “%(column)s”.")
                % {"field": by_key[key].label, "column": taken[key]}
            )
        else:
            taken[key] = header
    for spec in by_key.values():
        if spec.required and spec.key not in taken:
            errors.setdefault(None, []).append(
                _("Choose a column for “%(field)s”; every row needs one.") % {"field": spec.label}
            )
    return errors
