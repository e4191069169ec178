"""Which CSV column fills which field: guessed from the header names, then corrected by the user."""

from __future__ import annotations

import re

from django.utils import translation
from django.utils.translation import gettext as _

from crm.fields import FieldSpec

# Header names people use for a field besides its own key and label (English, Dutch, Norwegian), as they appear in
# exports from spreadsheets and other CRMs. Compared after lowercasing and dropping everything but letters and digits.
_COMPANY_WORDS = ["company", "company name", "bedrijf", "bedrijfsnaam", "firma", "firmanavn", "organisation"]
_COMPANY_WORDS += ["organization", "organisatie", "organisasjon", "account", "account name"]
SYNONYMS: dict[str, dict[str, list[str]]] = {
    "company": {
        "name": _COMPANY_WORDS + ["naam", "navn", "company_name"],
        "domain": ["website", "web", "url", "domein", "domene", "webside", "nettside", "company domain name"],
        "vat_number": ["vat", "vat id", "btw", "btw nummer", "btwnummer", "mva", "mva nummer", "mvanummer"],
        "registration_number": ["kvk", "kvk nummer", "coc", "coc number", "org nr", "orgnr", "organisasjonsnummer"],
        "address_line1": ["address", "street", "street address", "adres", "straat", "adresse", "gateadresse"],
        "postal_code": ["postcode", "zip", "zip code", "postal", "postnummer", "postnr"],
        "city": ["town", "plaats", "stad", "woonplaats", "vestigingsplaats", "sted", "poststed", "by"],
        "country": ["land", "country code"],
        "phone": ["telephone", "phone number", "telefoon", "telefoonnummer", "tel", "telefon", "telefonnummer"],
        "lifecycle_stage": ["lifecycle", "levensfase", "livsfase"],
        "owner": ["company owner", "eigenaar", "eier", "account owner"],
        "language": ["taal", "språk"],
        "currency": ["valuta"],
    },
    "contact": {
        "first_name": ["first", "given name", "firstname", "voornaam", "fornavn"],
        "last_name": ["last", "surname", "family name", "lastname", "achternaam", "etternavn"],
        "email": ["e-mail", "email address", "e-mail address", "mail", "e-mailadres", "emailadres", "e-post", "epost"],
        "phone": ["telephone", "phone number", "mobile", "telefoon", "telefoonnummer", "mobiel", "telefon", "mobil"],
        "job_title": ["title", "job", "position", "functie", "functietitel", "stilling", "tittel"],
        "company": _COMPANY_WORDS + ["company domain", "company website"],
        "lifecycle_stage": ["lifecycle", "levensfase", "livsfase"],
        "owner": ["contact owner", "eigenaar", "eier"],
        "language": ["taal", "språk"],
    },
    "deal": {
        "name": ["deal", "deal name", "dealnaam", "naam", "navn", "title", "tittel"],
        "amount": ["value", "deal value", "bedrag", "waarde", "beløp", "verdi"],
        "amount_currency": ["valuta", "currency code"],
        "stage": ["deal stage", "pipeline stage", "fase", "dealfase", "stadium", "steg", "trinn"],
        "close_date": ["closing date", "expected close date", "sluitingsdatum", "slutdatum", "lukkedato"],
        "company": _COMPANY_WORDS + ["company domain", "company website"],
        "owner": ["deal owner", "eigenaar", "eier"],
    },
}


def normalize_header(text: str) -> str:
    return re.sub(r"[^0-9a-zæøåäöüéèàç]", "", str(text).lower())


def importable_specs(specs: list[FieldSpec]) -> list[FieldSpec]:
    return [s for s in specs if s.editable]


def _candidates(object_type: str, specs: list[FieldSpec]) -> dict[str, str]:
    """Normalized header -> field key. Earlier sources win: keys and English labels, then translated labels,
    then synonyms."""
    found: dict[str, str] = {}

    def add(text, key):
        normalized = normalize_header(text)
        if normalized:
            found.setdefault(normalized, key)

    for spec in specs:
        add(spec.key, spec.key)
        if spec.is_custom:
            add(spec.property_key, spec.key)
        with translation.override("en"):
            add(str(spec.label), spec.key)
    for language in ("nl", "nb"):
        with translation.override(language):
            for spec in specs:
                add(str(spec.label), spec.key)
    keys = {s.key for s in specs}
    for key, words in SYNONYMS.get(object_type, {}).items():
        if key in keys:
            for word in words:
                add(word, key)
    return found


def mapping_guess(*, object_type: str, specs: list[FieldSpec], headers: list[str]) -> dict[str, str]:
    """CSV header -> field key ("" = ignore). A field is filled from the first column that matches it."""
    candidates = _candidates(object_type, importable_specs(specs))
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


def mapping_errors(*, specs: list[FieldSpec], headers: list[str], mapping: dict[str, str]) -> dict[str | None, list]:
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
