"""Business identifiers, validated with python-stdnum. Used by company settings and CRM companies alike."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from stdnum import get_cc_module
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.no import orgnr as no_orgnr


def _reason(exc: StdnumError) -> str:
    # python-stdnum's messages are English only; ours are translated.
    if isinstance(exc, InvalidChecksum):
        return _("the check digit does not match")
    if isinstance(exc, InvalidLength):
        return _("it has the wrong number of characters")
    if isinstance(exc, InvalidFormat | InvalidComponent):
        return _("it does not have the right format")
    return _("it is not valid")


def vat_number_normalize(value: str, country: str) -> str:
    """Return the compact VAT number (with its country prefix) or raise a ValidationError saying what is wrong."""
    value = (value or "").strip()
    if not value:
        return ""
    country = (country or "").lower()
    compact = re.sub(r"[\s.\-]", "", value).upper()
    # "NL123..." carries its own country; a bare number takes the company's country.
    prefix = compact[:2].lower()
    cc = prefix if prefix.isalpha() and get_cc_module(prefix, "vat") else country
    module = get_cc_module(cc, "vat") if cc else None
    if module is None:
        raise ValidationError(_("VAT numbers for this country cannot be checked; enter one with its country code."))
    try:
        number = module.validate(compact)
    except StdnumError as exc:
        raise ValidationError(
            _("This is not a valid %(country)s VAT number: %(reason)s.")
            % {"country": cc.upper(), "reason": _reason(exc)}
        ) from exc
    return number if number[:2].upper() == cc.upper() else f"{cc.upper()}{number}"


def registration_number_normalize(value: str, country: str) -> str:
    """Chamber of commerce (KvK, NL: 8 digits) or organisation number (NO: 9 digits with a check digit)."""
    value = (value or "").strip()
    if not value:
        return ""
    country = (country or "").upper()
    compact = re.sub(r"[\s.\-]", "", value)
    if country == "NL":
        if not re.fullmatch(r"\d{8}", compact):
            raise ValidationError(_("A Dutch chamber of commerce (KvK) number has 8 digits."))
        return compact
    if country == "NO":
        try:
            return no_orgnr.validate(compact)
        except StdnumError as exc:
            raise ValidationError(
                _("This is not a valid Norwegian organisation number: %(reason)s.") % {"reason": _reason(exc)}
            ) from exc
    return value
