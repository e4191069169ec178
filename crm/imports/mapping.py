"""The header names CSV files use for CRM fields; the guess itself is commerce_hub.imports.mapping's."""

from __future__ import annotations

from commerce_hub.imports.mapping import mapping_guess as _guess
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


def mapping_guess(*, object_type: str, specs: list[FieldSpec], headers: list[str]) -> dict[str, str]:
    """CSV header -> field key ("" = ignore), with the header names people use for this kind of record."""
    return _guess(specs=specs, headers=headers, synonyms=SYNONYMS.get(object_type, {}))
