"""Our company and contact fields, custom properties included, to Exact's crm/Accounts and crm/Contacts fields, and
back. The built-in pairs always apply; the wizard's custom map adds to them (or replaces one Exact field's source)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Exact's writable fields we offer, per object (names as in Exact's REST API).
EXACT_FIELDS = {
    "company": {
        "Name": _("Name"),
        "Code": _("Code"),
        "SearchCode": _("Search code"),
        "VATNumber": _("VAT number"),
        "ChamberOfCommerce": _("Chamber of commerce"),
        "AddressLine1": _("Address line 1"),
        "AddressLine2": _("Address line 2"),
        "Postcode": _("Postcode"),
        "City": _("City"),
        "Country": _("Country"),
        "Phone": _("Phone"),
        "Email": _("Email"),
        "Website": _("Website"),
        "Remarks": _("Remarks"),
    },
    "contact": {
        "FirstName": _("First name"),
        "LastName": _("Last name"),
        "Email": _("Email"),
        "BusinessPhone": _("Business phone"),
        "Mobile": _("Mobile"),
        "JobTitleDescription": _("Job title"),
        "Notes": _("Notes"),
    },
}

BUILT_IN = {
    "company": {
        "name": "Name",
        "vat_number": "VATNumber",
        "registration_number": "ChamberOfCommerce",
        "address_line1": "AddressLine1",
        "postal_code": "Postcode",
        "city": "City",
        "country": "Country",
        "phone": "Phone",
        "domain": "Website",
    },
    "contact": {
        "first_name": "FirstName",
        "last_name": "LastName",
        "email": "Email",
        "phone": "BusinessPhone",
        "job_title": "JobTitleDescription",
    },
}


def field_pairs(object_type: str, field_map: list[dict]) -> dict[str, str]:
    """Exact field -> our field or custom property key ("properties.<key>")."""
    pairs = {exact: ours for ours, exact in BUILT_IN[object_type].items()}
    for row in field_map:
        if row.get("object") == object_type and row.get("exact") in EXACT_FIELDS[object_type]:
            pairs[row["exact"]] = row["property"]
    return pairs


def _read(record, source: str):
    if source.startswith("properties."):
        value = (record.properties or {}).get(source.removeprefix("properties."))
    else:
        value = getattr(record, source, None)
    return "" if value is None else value


def exact_values(record, object_type: str, field_map: list[dict]) -> dict:
    """The Exact fields this record fills."""
    values = {}
    for exact, source in field_pairs(object_type, field_map).items():
        value = _read(record, source)
        values[exact] = value if isinstance(value, bool | int | float) else str(value)
    return values


def our_values(row: dict, object_type: str, field_map: list[dict]) -> dict:
    """What an Exact row says about our fields: {"name": ..., "properties": {"tier": ...}}."""
    values: dict = {}
    for exact, source in field_pairs(object_type, field_map).items():
        if exact not in row:
            continue
        if source.startswith("properties."):
            values.setdefault("properties", {})[source.removeprefix("properties.")] = row[exact]
        else:
            values[source] = row[exact]
    return values
