"""UBL 2.1 e-invoices and credit notes following Peppol BIS Billing 3.0 (Norway's EHF Billing 3.0), built from a
finalized document's snapshot: what the PDF prints is what the XML says, even after the profile or the buyer changed.

Money is never computed here. Every amount comes from the snapshot the pricing engine produced; this module only
sorts those amounts into the places the standard wants them, so that the sums it checks (BR-CO-10 to BR-CO-16,
BR-S-08 and the other per-category rules) hold to the cent:

- each line's LineExtensionAmount is its stored net (after the line discount, which is a line allowance);
- one-time document discounts are document-level allowances, one per VAT category and rate, of the shares the
  engine apportioned to the lines of that category (net - vat_base);
- one-time fees and taxes sit outside VAT: document-level charges in category E with the exemption reason of
  article 79(c) of the VAT directive (amounts charged on behalf of the customer);
- each category's VAT amount is the sum of the stored VAT groups that fall into it (the engine rounds once per
  group, which BR-S-09's tolerance accepts);
- PayableAmount is the stored total; should the lines' rounded nets ever add up to a cent off the rounded subtotal,
  the difference is PayableRoundingAmount instead of a changed amount.

VAT categories come from the lines' tax rates: a rate above zero is S (standard), reverse charge is AE, a zero rate
is E when its tax rate is exempt, K when it is a zero-rated supply to a VAT-registered buyer in another EU country,
G for an export out of the EU (or out of Norway) and Z otherwise.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext

from babel.numbers import get_currency_precision
from django.utils import translation
from django.utils.translation import gettext as _
from lxml import etree

from billing.models import CreditNote, Invoice, TaxRate
from integrations.models import BuyerEndpointSource, ExportSettings

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
DEFAULT_UNIT = "C62"  # UN/ECE rec 20: "one", a unit without a measure
ZERO = Decimal(0)

EU_COUNTRIES = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()  # noqa: SIM905
)
# Peppol electronic address schemes (EAS) by country: a company's registration number, and its VAT number.
REGISTRATION_SCHEMES = {"NL": "0106", "NO": "0192", "BE": "0208"}
VAT_SCHEMES = {"NL": "9944", "BE": "9925", "DE": "9930", "FR": "9957", "AT": "9914", "ES": "9920"}
# Legal registration identifiers (BT-30 / BT-47 scheme): the same ISO 6523 codes.
LEGAL_SCHEMES = {"NL": "0106", "NO": "0192", "BE": "0208"}

# Exemption reason codes (VATEX) and the plain text next to them, per category.
EXEMPTION = {
    "AE": ("VATEX-EU-AE", "Reverse charge"),
    "K": ("VATEX-EU-IC", "Intra-community supply"),
    "G": ("VATEX-EU-G", "Export outside the EU"),
    "E": ("", "Exempt from VAT"),
}
OUTSIDE_VAT = ("VATEX-EU-79-C", "Amounts charged on behalf of the customer, outside the scope of VAT")


class UblError(ValueError):
    """The document cannot be expressed as a valid Peppol e-invoice; `messages` say what to fix, in plain words."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    value: str


@dataclass
class Category:
    code: str
    rate: Decimal
    exemption: tuple[str, str] | None = None
    line_total: Decimal = ZERO
    allowances: Decimal = ZERO
    charges: Decimal = ZERO
    vat: Decimal = ZERO
    reasons: list[str] = field(default_factory=list)

    @property
    def taxable(self) -> Decimal:
        return self.line_total - self.allowances + self.charges


# --- settings and parties ---------------------------------------------------------------------------------------------


def export_settings_get() -> ExportSettings:
    """The tenant's export settings; the defaults (unsaved) for a tenant that never saved any."""
    return ExportSettings.objects.filter(pk=1).first() or ExportSettings(pk=1)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value or "")


def _compact(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def _registration_endpoint(party: dict) -> Endpoint | None:
    scheme = REGISTRATION_SCHEMES.get(party.get("country", ""))
    number = _digits(party.get("registration_number", ""))
    return Endpoint(scheme, number) if scheme and number else None


def _vat_endpoint(party: dict) -> Endpoint | None:
    scheme = VAT_SCHEMES.get(party.get("country", ""))
    number = _compact(party.get("vat_number", ""))
    return Endpoint(scheme, number) if scheme and number else None


def seller_endpoint(seller: dict, settings: ExportSettings) -> Endpoint | None:
    """The seller's Peppol address: the one set in the export settings, else its registration or VAT number."""
    if settings.seller_endpoint_scheme and settings.seller_endpoint_id.strip():
        return Endpoint(settings.seller_endpoint_scheme, settings.seller_endpoint_id.strip())
    return _registration_endpoint(seller) or _vat_endpoint(seller)


def buyer_endpoint(buyer: dict, settings: ExportSettings) -> Endpoint | None:
    """The buyer's Peppol address, from the number the settings prefer, then the other one, then an email."""
    first, second = _registration_endpoint(buyer), _vat_endpoint(buyer)
    if settings.buyer_endpoint_source == BuyerEndpointSource.VAT:
        first, second = second, first
    if first or second:
        return first or second
    emails = buyer.get("emails") or []
    return Endpoint("EM", emails[0]) if emails else None


# --- VAT categories ---------------------------------------------------------------------------------------------------


def exempt_tax_labels() -> set[str]:
    """Names of the tenant's exempt tax rates: a snapshot keeps a line's rate, label and reverse-charge flag, and a
    rate's name never changes once a finalized document used it (it is locked)."""
    return set(TaxRate.objects.filter(category=TaxRate.Category.EXEMPT).values_list("name", flat=True))


def category_code(
    *, rate: Decimal, label: str, reverse_charge: bool, seller: dict, buyer: dict, exempt_labels: set[str]
) -> str:
    if reverse_charge:
        return "AE"
    if rate > 0:
        return "S"
    if label and label in exempt_labels:
        return "E"
    seller_country, buyer_country = seller.get("country", ""), buyer.get("country", "")
    if buyer_country and buyer_country != seller_country:
        if seller_country in EU_COUNTRIES and buyer_country in EU_COUNTRIES and buyer.get("vat_number"):
            return "K"
        if seller_country not in EU_COUNTRIES or buyer_country not in EU_COUNTRIES:
            return "G"
    return "Z"


class _Categories:
    """The VAT breakdown: one entry per category and rate (Peppol wants exactly one per pair)."""

    def __init__(self, document: dict):
        self.document = document
        self.exempt = exempt_tax_labels()
        self.entries: OrderedDict[tuple[str, Decimal], Category] = OrderedDict()
        # The stored VAT groups, by the key the engine groups lines by.
        self.groups = {
            (Decimal(g["rate"]), g.get("label", ""), bool(g.get("reverse_charge"))): g
            for g in document.get("vat_groups", [])
        }
        for (rate, label, reverse_charge), group in self.groups.items():
            self.of(rate=rate, label=label, reverse_charge=reverse_charge).vat += Decimal(group["vat"])

    def of(self, *, rate: Decimal, label: str, reverse_charge: bool) -> Category:
        code = category_code(
            rate=rate,
            label=label,
            reverse_charge=reverse_charge,
            seller=self.document.get("seller") or {},
            buyer=self.document.get("buyer") or {},
            exempt_labels=self.exempt,
        )
        rate = ZERO if code != "S" else rate
        return self._entry(code, rate, EXEMPTION.get(code))

    def outside_vat(self) -> Category:
        return self._entry("E", ZERO, OUTSIDE_VAT)

    def for_line(self, line: dict) -> Category:
        """A line's category; a line of no stored VAT group (a whole-invoice credit's fees and rounding) is outside
        VAT."""
        reverse_charge = bool(line.get("reverse_charge"))
        rate = ZERO if reverse_charge else Decimal(line.get("tax_rate") or 0)
        key = (rate, line.get("tax_label", ""), reverse_charge)
        if key not in self.groups:
            return self.outside_vat()
        return self.of(rate=rate, label=key[1], reverse_charge=reverse_charge)

    def _entry(self, code: str, rate: Decimal, exemption) -> Category:
        key = (code, rate)
        if key not in self.entries:
            self.entries[key] = Category(code=code, rate=rate, exemption=exemption)
        return self.entries[key]


# --- XML helpers ------------------------------------------------------------------------------------------------------


def _el(parent, ns: str, tag: str, text=None, **attrs):
    """A child element; None when `text` is given but empty (Peppol refuses empty elements, PEPPOL-EN16931-R008)."""
    if text is not None and str(text).strip() == "":
        return None
    node = etree.SubElement(parent, f"{{{ns}}}{tag}", {k: v for k, v in attrs.items() if v})
    if text is not None:
        node.text = str(text)
    return node


def _cbc(parent, tag: str, text, **attrs):
    """A basic component: a leaf, left out when it has no value."""
    return None if text is None else _el(parent, CBC, tag, text, **attrs)


def _cac(parent, tag: str):
    return _el(parent, CAC, tag)


class _Writer:
    def __init__(self, currency: str):
        self.currency = currency
        self.places = get_currency_precision(currency)

    def amount(self, parent, tag: str, value: Decimal):
        quantum = Decimal(1).scaleb(-self.places)
        return _cbc(parent, tag, f"{Decimal(value).quantize(quantum):f}", currencyID=self.currency)

    def tax_category(self, parent, tag: str, category: Category, *, reason: bool):
        node = _cac(parent, tag)
        _cbc(node, "ID", category.code)
        _cbc(node, "Percent", f"{category.rate.normalize():f}" if category.rate else "0")
        if reason and category.exemption:
            code, text = category.exemption
            _cbc(node, "TaxExemptionReasonCode", code or None)
            _cbc(node, "TaxExemptionReason", text)
        scheme = _cac(node, "TaxScheme")
        _cbc(scheme, "ID", "VAT")
        return node


def _address(parent, party: dict, country: str) -> None:
    address = _cac(parent, "PostalAddress")
    _cbc(address, "StreetName", party.get("address_line1") or None)
    _cbc(address, "AdditionalStreetName", party.get("address_line2") or None)
    _cbc(address, "CityName", party.get("city") or None)
    _cbc(address, "PostalZone", party.get("postal_code") or None)
    _cbc(_cac(address, "Country"), "IdentificationCode", country)


def _vat_id(value: str, country: str) -> str:
    """A VAT identifier with its country prefix (BR-CO-09); Greece's is EL."""
    vat = _compact(value)
    prefix = "EL" if country == "GR" else country
    if vat and prefix and not vat[:2].isalpha():
        vat = prefix + vat
    return vat


def _party(root, tag: str, party: dict, endpoint: Endpoint, *, seller: bool, fallback_country: str) -> None:
    country = party.get("country") or fallback_country
    node = _cac(_cac(root, tag), "Party")
    _cbc(node, "EndpointID", endpoint.value, schemeID=endpoint.scheme)
    name = party.get("legal_name") if seller else party.get("name")
    _cbc(_cac(node, "PartyName"), "Name", name)
    _address(node, party, country)
    vat = _vat_id(party.get("vat_number", ""), country)
    if vat:
        scheme = _cac(node, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", vat)
        _cbc(_cac(scheme, "TaxScheme"), "ID", "VAT")
    if seller and country == "NO" and party.get("registration_number"):
        # Norwegian sellers in the Register of Business Enterprises state it (NO-R-002).
        scheme = _cac(node, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", "Foretaksregisteret")
        _cbc(_cac(scheme, "TaxScheme"), "ID", "TAX")
    legal = _cac(node, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", name)
    registration = party.get("registration_number", "")
    if registration:
        legal_scheme = LEGAL_SCHEMES.get(country)
        _cbc(legal, "CompanyID", _digits(registration) if legal_scheme else registration, schemeID=legal_scheme)
    if not seller:
        emails = party.get("emails") or []
        if party.get("attention") or emails:
            contact = _cac(node, "Contact")
            _cbc(contact, "Name", party.get("attention") or None)
            _cbc(contact, "ElectronicMail", emails[0] if emails else None)


def _check_parties(document: dict, settings: ExportSettings) -> tuple[Endpoint, Endpoint]:
    seller, buyer = document.get("seller") or {}, document.get("buyer") or {}
    problems = []
    if get_currency_precision(document["currency"]) > 2:
        problems.append(
            _("Peppol e-invoices carry amounts with at most two decimals; %(currency)s has more.")
            % {"currency": document["currency"]}
        )
    seller_at = seller_endpoint(seller, settings)
    if seller_at is None:
        problems.append(
            _(
                "Your Peppol endpoint is unknown: set it in Settings → Exports, or add your chamber of commerce or VAT "
                "number to the organization profile."
            )
        )
    if not seller.get("vat_number"):
        problems.append(_("Your VAT number is missing from the organization profile (it was when this was issued)."))
    buyer_at = buyer_endpoint(buyer, settings)
    if buyer_at is None:
        problems.append(
            _(
                "The buyer has no Peppol endpoint: its company needs a chamber of commerce or VAT number, or the "
                "invoice a contact with an email address."
            )
        )
    if not seller.get("legal_name") or not buyer.get("name"):
        problems.append(_("A Peppol e-invoice names both the seller and the buyer."))
    if problems:
        raise UblError(problems)
    return seller_at, buyer_at


def _quantity_and_price(quantity: Decimal, gross: Decimal) -> tuple[Decimal, Decimal | None]:
    """The unit price and, when the gross does not divide into a unit price of at most six decimals (tiered lines),
    the base quantity it is the price of, so quantity x price / base quantity is the gross exactly
    (PEPPOL-EN16931-R120)."""
    if quantity <= 0:
        return gross, None
    with localcontext() as ctx:
        ctx.prec = 50
        price = gross / quantity
        if price == price.quantize(Decimal("0.000001")):
            return price.normalize(), None
    return gross, quantity


def _number(value: Decimal) -> str:
    text = f"{Decimal(value).normalize():f}"
    return text


# --- documents --------------------------------------------------------------------------------------------------------


def _header(root, document: dict, *, number: str, type_tag: str, type_code: str) -> None:
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", number)
    _cbc(root, "IssueDate", document["issue_date"])
    if type_tag == "InvoiceTypeCode":
        _cbc(root, "DueDate", document.get("due_date") or None)
    _cbc(root, type_tag, type_code)
    note = document.get("comments") or document.get("reason") or ""
    _cbc(root, "Note", note[:1000] or None)
    _cbc(root, "DocumentCurrencyCode", document["currency"])


def _buyer_reference(document: dict, number: str) -> str:
    """BT-10 (PEPPOL-EN16931-R003 wants it or an order reference): whom the buyer routes it to, else the number."""
    attention = ((document.get("buyer") or {}).get("attention") or "").strip()
    return attention[:70] or number


def _totals(root, w: _Writer, categories: _Categories, *, line_total: Decimal, total: Decimal) -> None:
    allowances = sum((c.allowances for c in categories.entries.values()), ZERO)
    charges = sum((c.charges for c in categories.entries.values()), ZERO)
    for is_charge in (False, True):
        for category in categories.entries.values():
            amount = category.charges if is_charge else category.allowances
            if not amount:
                continue
            node = _cac(root, "AllowanceCharge")
            _cbc(node, "ChargeIndicator", "true" if is_charge else "false")
            if not is_charge:
                _cbc(node, "AllowanceChargeReasonCode", "95")  # UNCL 5189: discount
            reasons = [r for r in category.reasons if r] if is_charge else []
            text = ", ".join(dict.fromkeys(reasons)) if is_charge else _("Discount")
            _cbc(node, "AllowanceChargeReason", (text or _("Fee"))[:200])
            w.amount(node, "Amount", amount)
            w.tax_category(node, "TaxCategory", category, reason=False)
    vat_total = sum((c.vat for c in categories.entries.values()), ZERO)
    tax_total = _cac(root, "TaxTotal")
    w.amount(tax_total, "TaxAmount", vat_total)
    for category in categories.entries.values():
        subtotal = _cac(tax_total, "TaxSubtotal")
        w.amount(subtotal, "TaxableAmount", category.taxable)
        w.amount(subtotal, "TaxAmount", category.vat)
        w.tax_category(subtotal, "TaxCategory", category, reason=True)
    tax_exclusive = line_total - allowances + charges
    tax_inclusive = tax_exclusive + vat_total
    monetary = _cac(root, "LegalMonetaryTotal")
    w.amount(monetary, "LineExtensionAmount", line_total)
    w.amount(monetary, "TaxExclusiveAmount", tax_exclusive)
    w.amount(monetary, "TaxInclusiveAmount", tax_inclusive)
    if allowances:
        w.amount(monetary, "AllowanceTotalAmount", allowances)
    if charges:
        w.amount(monetary, "ChargeTotalAmount", charges)
    if total != tax_inclusive:
        w.amount(monetary, "PayableRoundingAmount", total - tax_inclusive)
    w.amount(monetary, "PayableAmount", total)


def _line(
    root,
    w: _Writer,
    *,
    tag: str,
    quantity_tag: str,
    index: int,
    line: dict,
    category: Category,
    name: str,
    quantity: Decimal,
    net: Decimal,
    discount: Decimal,
) -> None:
    node = _cac(root, tag)
    _cbc(node, "ID", str(index))
    _cbc(node, quantity_tag, _number(quantity), unitCode=DEFAULT_UNIT)
    w.amount(node, "LineExtensionAmount", net)
    if discount:
        allowance = _cac(node, "AllowanceCharge")
        _cbc(allowance, "ChargeIndicator", "false")
        _cbc(allowance, "AllowanceChargeReasonCode", "95")
        _cbc(allowance, "AllowanceChargeReason", _("Discount"))
        w.amount(allowance, "Amount", discount)
    item = _cac(node, "Item")
    description = " ".join((line.get("description") or "").split())
    _cbc(item, "Description", description[:1000] or None)
    _cbc(item, "Name", (name or description or _("Item"))[:200])
    if line.get("sku"):
        _cbc(_cac(item, "SellersItemIdentification"), "ID", line["sku"])
    w.tax_category(item, "ClassifiedTaxCategory", category, reason=False)
    price, base_quantity = _quantity_and_price(quantity, net + discount)
    price_node = _cac(node, "Price")
    _cbc(price_node, "PriceAmount", _number(price), currencyID=w.currency)
    if base_quantity is not None:
        _cbc(price_node, "BaseQuantity", _number(base_quantity), unitCode=DEFAULT_UNIT)


def _payment(root, document: dict, *, number: str) -> None:
    bank = document.get("bank") or {}
    iban = re.sub(r"\s+", "", bank.get("iban") or "").upper()
    if iban:
        means = _cac(root, "PaymentMeans")
        sepa = document["currency"] == "EUR" and iban[:2] in EU_COUNTRIES | {"NO", "CH", "GB", "IS", "LI"}
        code, label = ("58", "SEPA credit transfer") if sepa else ("30", "Credit transfer")
        _cbc(means, "PaymentMeansCode", code, name=label)
        _cbc(means, "PaymentID", number)
        account = _cac(means, "PayeeFinancialAccount")
        _cbc(account, "ID", iban)
        holder = bank.get("holder") or (document.get("seller") or {}).get("legal_name")
        _cbc(account, "Name", holder or None)
        if bank.get("bic"):
            _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", bank["bic"].replace(" ", "").upper())
    days = document.get("payment_terms_days")
    if days is not None:
        terms = _("Payment within %(days)s days") % {"days": days}
    elif document.get("due_date"):
        terms = _("Payment due on %(date)s") % {"date": document["due_date"]}
    else:
        terms = ""
    if terms:
        _cbc(_cac(root, "PaymentTerms"), "Note", terms)


def _delivery(root, categories: _Categories, document: dict) -> None:
    # An intra-community supply states when and where it was delivered (BR-IC-11, BR-IC-12).
    if not any(c.code == "K" for c in categories.entries.values()):
        return
    delivery = _cac(root, "Delivery")
    _cbc(delivery, "ActualDeliveryDate", document["issue_date"])
    address = _cac(_cac(delivery, "DeliveryLocation"), "Address")
    _cbc(_cac(address, "Country"), "IdentificationCode", (document.get("buyer") or {}).get("country"))


def _serialize(root) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def document_invoice_ubl(document: dict, *, settings: ExportSettings, period: tuple[date, date] | None = None) -> bytes:
    """The UBL Invoice of a finalized invoice's snapshot."""
    number = document.get("number")
    if not number:
        raise UblError([_("Only a finalized invoice has an e-invoice.")])
    seller_at, buyer_at = _check_parties(document, settings)
    with translation.override(document.get("language") or "en"):
        w = _Writer(document["currency"])
        categories = _Categories(document)
        lines = document.get("lines", [])
        line_categories = []
        for line in lines:
            category = categories.for_line(line)
            category.line_total += Decimal(line["net"])
            # The one-time discounts' share of this line: what lowered its VAT base below its net.
            category.allowances += Decimal(line["net"]) - Decimal(line.get("vat_base", line["net"]))
            line_categories.append(category)
        for adjustment in document.get("adjustments", []):
            if adjustment.get("kind") in ("fee", "tax"):
                outside = categories.outside_vat()
                outside.charges += Decimal(adjustment["amount"])
                outside.reasons.append(adjustment.get("label") or "")
        root = etree.Element(f"{{{NS_INVOICE}}}Invoice", nsmap={None: NS_INVOICE, "cac": CAC, "cbc": CBC})
        _header(root, document, number=number, type_tag="InvoiceTypeCode", type_code="380")
        _cbc(root, "BuyerReference", _buyer_reference(document, number))
        if period:
            invoice_period = _cac(root, "InvoicePeriod")
            _cbc(invoice_period, "StartDate", period[0].isoformat())
            _cbc(invoice_period, "EndDate", period[1].isoformat())
        _party(root, "AccountingSupplierParty", document["seller"], seller_at, seller=True, fallback_country="")
        _party(
            root,
            "AccountingCustomerParty",
            document["buyer"],
            buyer_at,
            seller=False,
            fallback_country=document["seller"].get("country", ""),
        )
        _delivery(root, categories, document)
        _payment(root, document, number=number)
        line_total = sum((Decimal(line["net"]) for line in lines), ZERO)
        _totals(root, w, categories, line_total=line_total, total=Decimal(document["total"]))
        for index, (line, category) in enumerate(zip(lines, line_categories, strict=True), start=1):
            _line(
                root,
                w,
                tag="InvoiceLine",
                quantity_tag="InvoicedQuantity",
                index=index,
                line=line,
                category=category,
                name=line.get("name", ""),
                quantity=Decimal(line["quantity"]),
                net=Decimal(line["net"]),
                discount=Decimal(line.get("discount") or 0),
            )
    return _serialize(root)


def document_credit_note_ubl(document: dict, *, settings: ExportSettings) -> bytes:
    """The UBL CreditNote of a credit note's snapshot, referring to the invoice it corrects."""
    number = document["number"]
    seller_at, buyer_at = _check_parties(document, settings)
    with translation.override(document.get("language") or "en"):
        w = _Writer(document["currency"])
        categories = _Categories(document)
        lines = document.get("lines", [])
        line_categories = []
        for line in lines:
            category = categories.for_line(line)
            category.line_total += Decimal(line["net"])
            line_categories.append(category)
        root = etree.Element(f"{{{NS_CREDIT_NOTE}}}CreditNote", nsmap={None: NS_CREDIT_NOTE, "cac": CAC, "cbc": CBC})
        _header(root, document, number=number, type_tag="CreditNoteTypeCode", type_code="381")
        _cbc(root, "BuyerReference", _buyer_reference(document, document.get("invoice_number") or number))
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", document.get("invoice_number"))
        _cbc(reference, "IssueDate", document.get("invoice_issue_date") or None)
        _party(root, "AccountingSupplierParty", document["seller"], seller_at, seller=True, fallback_country="")
        _party(
            root,
            "AccountingCustomerParty",
            document["buyer"],
            buyer_at,
            seller=False,
            fallback_country=document["seller"].get("country", ""),
        )
        _delivery(root, categories, document)
        line_total = sum((Decimal(line["net"]) for line in lines), ZERO)
        _totals(root, w, categories, line_total=line_total, total=Decimal(document["total"]))
        for index, (line, category) in enumerate(zip(lines, line_categories, strict=True), start=1):
            quantity = Decimal(line["quantity"]) if line.get("quantity") is not None else Decimal(1)
            _line(
                root,
                w,
                tag="CreditNoteLine",
                quantity_tag="CreditedQuantity",
                index=index,
                line={"description": ""},
                category=category,
                name=line.get("description", ""),
                quantity=quantity,
                net=Decimal(line["net"]),
                discount=ZERO,
            )
    return _serialize(root)


# --- from the records -------------------------------------------------------------------------------------------------


def invoice_ubl(invoice: Invoice, *, settings: ExportSettings | None = None) -> bytes:
    if invoice.is_draft or not invoice.snapshot:
        raise UblError([_("Only a finalized invoice has an e-invoice.")])
    period = (invoice.period_start, invoice.period_end) if invoice.period_start and invoice.period_end else None
    return document_invoice_ubl(invoice.snapshot, settings=settings or export_settings_get(), period=period)


def credit_note_ubl(note: CreditNote, *, settings: ExportSettings | None = None) -> bytes:
    return document_credit_note_ubl(note.snapshot, settings=settings or export_settings_get())


def ubl_file_name(number: str, kind: str = "invoice") -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", number).strip("-.") or "document"
    return f"{kind}-{safe}.xml"
