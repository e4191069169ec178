"""Checks of UBL output for the tests: the OASIS UBL 2.1 schema (vendored unmodified under tests/integrations/ubl_xsd)
and, in Python, the EN 16931 / Peppol BIS Billing 3.0 business rules that matter for the documents we issue.

The official schematron artefacts (CEN's EN16931 UBL rules and OpenPeppol's PEPPOL-EN16931-UBL.sch) are XSLT 2.0;
lxml runs only XSLT 1.0 and ISO schematron with the XPath 1.0 binding, and the artefacts are not on this machine, so
the rules below re-state them (rule ids as in the artefacts, sums compared exactly, BR-*-09 within the artefacts'
tolerance of one currency unit)."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).resolve().parent.parent / "ubl_xsd" / "maindoc"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
EXEMPTION_REQUIRED = {"E", "AE", "K", "G", "O"}


@cache
def _schema(kind: str) -> etree.XMLSchema:
    name = "UBL-Invoice-2.1.xsd" if kind == "Invoice" else "UBL-CreditNote-2.1.xsd"
    return etree.XMLSchema(etree.parse(str(XSD_DIR / name)))


def xsd_errors(xml: bytes) -> list[str]:
    root = etree.fromstring(xml)
    schema = _schema(etree.QName(root).localname)
    schema.validate(root)
    return [f"{e.line}: {e.message}" for e in schema.error_log]


def _d(node) -> Decimal:
    return Decimal(node.text)


def _one(root, path: str):
    found = root.xpath(path, namespaces=NS)
    return found[0] if found else None


def _sum(root, path: str) -> Decimal:
    return sum((Decimal(n.text) for n in root.xpath(path, namespaces=NS)), Decimal(0))


def rule_errors(xml: bytes) -> list[str]:
    """The business rules that fail, as "RULE-ID: what"."""
    root = etree.fromstring(xml)
    kind = etree.QName(root).localname
    line_tag = "cac:InvoiceLine" if kind == "Invoice" else "cac:CreditNoteLine"
    qty_tag = "cbc:InvoicedQuantity" if kind == "Invoice" else "cbc:CreditedQuantity"
    errors = []

    def check(rule, ok, what=""):
        if not ok:
            errors.append(f"{rule}: {what}")

    text = lambda path: _one(root, path).text if _one(root, path) is not None else None  # noqa: E731
    check(
        "PEPPOL-EN16931-R004",
        text("cbc:CustomizationID") == ("urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"),
    )
    check("PEPPOL-EN16931-R001", text("cbc:ProfileID") == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0")
    check("PEPPOL-EN16931-R003", text("cbc:BuyerReference") or text("cac:OrderReference/cbc:ID"))
    empty = [
        etree.QName(n).localname
        for n in root.iter()
        if isinstance(n.tag, str) and len(n) == 0 and not (n.text or "").strip()
    ]
    check("PEPPOL-EN16931-R008", not empty, f"empty elements {empty}")
    check(
        "PEPPOL-EN16931-R020", _one(root, "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID[@schemeID]") is not None
    )
    check(
        "PEPPOL-EN16931-R010", _one(root, "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID[@schemeID]") is not None
    )
    check("BR-02", text("cbc:ID"))
    check("BR-03", text("cbc:IssueDate"))
    check("BR-05", text("cbc:DocumentCurrencyCode"))
    check("BR-06", text("cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName"))
    check("BR-07", text("cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName"))
    check("BR-09", text("cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode"))
    check("BR-11", text("cac:AccountingCustomerParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode"))
    currency = text("cbc:DocumentCurrencyCode")
    for node in root.xpath("//*[@currencyID]"):
        check("BR-CL-03", node.get("currencyID") == currency, etree.QName(node).localname)
        if etree.QName(node).localname != "PriceAmount":
            check("BR-DEC", len(node.text.partition(".")[2]) <= 2, f"{etree.QName(node).localname} {node.text}")

    lines = root.xpath(line_tag, namespaces=NS)
    check("BR-16", lines, "at least one line")
    for line in lines:
        line_id = _one(line, "cbc:ID").text
        net = _d(_one(line, "cbc:LineExtensionAmount"))
        quantity = _d(_one(line, qty_tag))
        price = _d(_one(line, "cac:Price/cbc:PriceAmount"))
        base = _one(line, "cac:Price/cbc:BaseQuantity")
        base = _d(base) if base is not None else Decimal(1)
        allowances = _sum(line, "cac:AllowanceCharge[cbc:ChargeIndicator='false']/cbc:Amount")
        charges = _sum(line, "cac:AllowanceCharge[cbc:ChargeIndicator='true']/cbc:Amount")
        check("BR-25", text_of(line, "cac:Item/cbc:Name"), line_id)
        check("BR-26/BR-27", price >= 0, line_id)
        check("PEPPOL-EN16931-R121", base > 0, line_id)
        # PEPPOL-EN16931-R120: exact here (the artefact allows 0.02).
        check(
            "PEPPOL-EN16931-R120",
            net == (quantity * price / base + charges - allowances).quantize(Decimal("0.01")),
            f"line {line_id}: {net} vs {quantity} x {price} / {base} + {charges} - {allowances}",
        )
        check("BR-CO-04", _one(line, "cac:Item/cac:ClassifiedTaxCategory/cbc:ID") is not None, line_id)
        for allowance in line.xpath("cac:AllowanceCharge", namespaces=NS):
            check(
                "BR-41/BR-42",
                text_of(allowance, "cbc:AllowanceChargeReason") or text_of(allowance, "cbc:AllowanceChargeReasonCode"),
                line_id,
            )

    monetary = "cac:LegalMonetaryTotal/"
    total = lambda tag: _d(_one(root, monetary + tag)) if _one(root, monetary + tag) is not None else Decimal(0)  # noqa: E731
    doc_allowances = _sum(root, "cac:AllowanceCharge[cbc:ChargeIndicator='false']/cbc:Amount")
    doc_charges = _sum(root, "cac:AllowanceCharge[cbc:ChargeIndicator='true']/cbc:Amount")
    line_sum = _sum(root, f"{line_tag}/cbc:LineExtensionAmount")
    vat_total = _d(_one(root, "cac:TaxTotal/cbc:TaxAmount"))
    check("BR-CO-10", total("cbc:LineExtensionAmount") == line_sum, f"{total('cbc:LineExtensionAmount')} vs {line_sum}")
    check("BR-CO-11", total("cbc:AllowanceTotalAmount") == doc_allowances)
    check("BR-CO-12", total("cbc:ChargeTotalAmount") == doc_charges)
    check("BR-CO-13", total("cbc:TaxExclusiveAmount") == line_sum - doc_allowances + doc_charges)
    check("BR-CO-14", vat_total == _sum(root, "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount"))
    check("BR-CO-15", total("cbc:TaxInclusiveAmount") == total("cbc:TaxExclusiveAmount") + vat_total)
    check(
        "BR-CO-16",
        total("cbc:PayableAmount")
        == total("cbc:TaxInclusiveAmount") - total("cbc:PrepaidAmount") + total("cbc:PayableRoundingAmount"),
    )
    check("PEPPOL-EN16931-R053", len(root.xpath("cac:TaxTotal", namespaces=NS)) == 1)
    for allowance in root.xpath("cac:AllowanceCharge", namespaces=NS):
        check(
            "BR-33/BR-38",
            text_of(allowance, "cbc:AllowanceChargeReason") or text_of(allowance, "cbc:AllowanceChargeReasonCode"),
        )
        check("BR-32/BR-37", text_of(allowance, "cac:TaxCategory/cbc:ID"))

    # Per VAT category: BR-S-08/09, BR-Z-*, BR-E-*, BR-AE-*, BR-K-*, BR-G-* (taxable, VAT, exemption, parties).
    seller_vat = text(
        "cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"
    )
    buyer_vat = text(
        "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"
    )
    subtotals = root.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=NS)
    seen = set()
    for subtotal in subtotals:
        code = text_of(subtotal, "cac:TaxCategory/cbc:ID")
        rate = Decimal(text_of(subtotal, "cac:TaxCategory/cbc:Percent") or "0")
        key = (code, rate)
        check(f"BR-{code}-01", key not in seen, f"one breakdown per {key}")
        seen.add(key)
        in_category = f"[cac:TaxCategory/cbc:ID='{code}' and number(cac:TaxCategory/cbc:Percent)={rate}]"
        expected = (
            sum(
                (
                    _d(n)
                    for n in root.xpath(
                        f"{line_tag}[cac:Item/cac:ClassifiedTaxCategory/cbc:ID='{code}' and "
                        f"number(cac:Item/cac:ClassifiedTaxCategory/cbc:Percent)={rate}]"
                        "/cbc:LineExtensionAmount",
                        namespaces=NS,
                    )
                ),
                Decimal(0),
            )
            - _sum(root, f"cac:AllowanceCharge[cbc:ChargeIndicator='false']{in_category}/cbc:Amount")
            + _sum(root, f"cac:AllowanceCharge[cbc:ChargeIndicator='true']{in_category}/cbc:Amount")
        )
        taxable, tax = _d(_one(subtotal, "cbc:TaxableAmount")), _d(_one(subtotal, "cbc:TaxAmount"))
        check(f"BR-{code}-08", taxable == expected, f"{taxable} vs {expected}")
        if code == "S":
            check("BR-S-09", abs(tax - (taxable * rate / 100).quantize(Decimal("0.01"))) <= 1, f"{tax} at {rate}%")
            check("BR-S-02", seller_vat)
            check(
                "BR-S-10",
                text_of(subtotal, "cac:TaxCategory/cbc:TaxExemptionReason") is None
                and text_of(subtotal, "cac:TaxCategory/cbc:TaxExemptionReasonCode") is None,
            )
        else:
            check(f"BR-{code}-09", tax == 0 and rate == 0, f"{tax} at {rate}%")
            check(f"BR-{code}-02", seller_vat)
        if code in EXEMPTION_REQUIRED:
            check(
                f"BR-{code}-10",
                text_of(subtotal, "cac:TaxCategory/cbc:TaxExemptionReason")
                or text_of(subtotal, "cac:TaxCategory/cbc:TaxExemptionReasonCode"),
            )
        if code in ("AE", "K"):
            check(f"BR-{code}-02", buyer_vat, "buyer VAT number")
        if code == "K":
            check("BR-IC-11", text("cac:Delivery/cbc:ActualDeliveryDate") or text("cac:InvoicePeriod/cbc:StartDate"))
            check("BR-IC-12", text("cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode"))
    for vat in (seller_vat, buyer_vat):
        check("BR-CO-09", vat is None or vat[:2].isalpha(), vat)

    # Dutch suppliers (NL-R-*).
    if text("cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/cac:Country/cbc:IdentificationCode") == "NL":
        address = "cac:AccountingSupplierParty/cac:Party/cac:PostalAddress/"
        check(
            "NL-R-002",
            text(address + "cbc:StreetName") and text(address + "cbc:CityName") and text(address + "cbc:PostalZone"),
        )
        legal = _one(root, "cac:AccountingSupplierParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID")
        check("NL-R-003", legal is not None and legal.get("schemeID") in ("0106", "0190"))
        if kind == "CreditNote":
            check("NL-R-001", text("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"))
        for means in root.xpath("cac:PaymentMeans", namespaces=NS):
            code = text_of(means, "cbc:PaymentMeansCode")
            check("NL-R-007", code in ("30", "48", "49", "57", "58", "59"), code)
            if code in ("30", "58"):
                check("NL-R-008", text_of(means, "cac:PayeeFinancialAccount/cbc:ID"))
    return errors


def text_of(node, path: str):
    found = node.xpath(path, namespaces=NS)
    if not found:
        return None
    return found[0] if isinstance(found[0], str) else found[0].text


def value(xml: bytes, path: str):
    """The text of the first node at `path` (relative to the root, with cac:/cbc: prefixes), or None."""
    return text_of(etree.fromstring(xml), path)


def values(xml: bytes, path: str) -> list[str]:
    return [n if isinstance(n, str) else n.text for n in etree.fromstring(xml).xpath(path, namespaces=NS)]
