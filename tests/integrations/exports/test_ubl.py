"""UBL 2.1 / Peppol BIS Billing 3.0 e-invoices: the schema, the business rules and the values a buyer's system reads."""

from decimal import Decimal

import pytest

from integrations.exports.ubl import UblError, credit_note_ubl, invoice_ubl
from integrations.models import ExportSettings
from tests.integrations.exports.data import (
    credit_whole,
    finalize,
    nl_buyer,
    nl_invoice,
    nok_invoice,
    reverse_charge_invoice,
)
from tests.integrations.exports.peppol import rule_errors, value, values, xsd_errors

pytestmark = pytest.mark.django_db

SUBTOTALS = "cac:TaxTotal/cac:TaxSubtotal"


def _valid(xml: bytes) -> None:
    assert xsd_errors(xml) == []
    assert rule_errors(xml) == []


def test_dutch_invoice_with_21_and_9_percent_vat_is_valid_ubl_with_one_subtotal_per_rate(tenant_alpha):
    invoice = nl_invoice()
    xml = invoice_ubl(invoice)
    _valid(xml)
    assert value(xml, "cbc:CustomizationID") == (
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    )
    assert value(xml, "cbc:ProfileID") == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
    assert value(xml, "cbc:ID") == invoice.number
    assert value(xml, "cbc:IssueDate") == "2026-03-02"
    assert value(xml, "cbc:DueDate") == "2026-03-16"
    assert value(xml, "cbc:InvoiceTypeCode") == "380"
    assert values(xml, f"{SUBTOTALS}/cac:TaxCategory/cbc:ID") == ["S", "S"]
    assert values(xml, f"{SUBTOTALS}/cac:TaxCategory/cbc:Percent") == ["21", "9"]
    # 200.00 + (37.50 - 3.75) at 21%, 49.99 at 9%.
    assert values(xml, f"{SUBTOTALS}/cbc:TaxableAmount") == ["233.75", "49.99"]
    assert values(xml, f"{SUBTOTALS}/cbc:TaxAmount") == ["49.09", "4.50"]
    assert value(xml, "cac:TaxTotal/cbc:TaxAmount") == "53.59"
    assert value(xml, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount") == "283.74"
    assert value(xml, "cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount") == "283.74"
    assert value(xml, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == "337.33"
    assert value(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "337.33"
    assert Decimal(value(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount")) == invoice.total
    # The line discount is a line allowance on the gross price.
    assert values(xml, "cac:InvoiceLine/cbc:LineExtensionAmount") == ["200.00", "33.75", "49.99"]
    assert values(xml, "cac:InvoiceLine/cac:Price/cbc:PriceAmount") == ["100", "12.5", "49.99"]
    assert values(xml, "cac:InvoiceLine/cac:AllowanceCharge/cbc:Amount") == ["3.75"]
    assert values(xml, "cac:InvoiceLine/cbc:InvoicedQuantity/@unitCode") == ["C62", "C62", "C62"]
    seller = "cac:AccountingSupplierParty/cac:Party/"
    assert value(xml, seller + "cbc:EndpointID") == "12345678"
    assert value(xml, seller + "cbc:EndpointID/@schemeID") == "0106"
    assert value(xml, seller + "cac:PartyTaxScheme/cbc:CompanyID") == "NL000099998B57"
    assert value(xml, seller + "cac:PartyLegalEntity/cbc:CompanyID/@schemeID") == "0106"
    buyer = "cac:AccountingCustomerParty/cac:Party/"
    assert value(xml, buyer + "cbc:EndpointID") == "87654321"
    assert value(xml, buyer + "cac:PartyTaxScheme/cbc:CompanyID") == "NL123456782B90"
    assert value(xml, buyer + "cac:Contact/cbc:ElectronicMail") == "inkoop@molen.example"
    assert value(xml, "cac:PaymentMeans/cbc:PaymentMeansCode") == "58"
    assert value(xml, "cac:PaymentMeans/cbc:PaymentID") == invoice.number
    assert value(xml, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == "NL91ABNA0417164300"
    assert value(xml, "cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID") == "ABNANL2A"
    assert value(xml, "cac:PaymentTerms/cbc:Note") == "Payment within 14 days"


def test_one_time_discount_and_fee_become_document_allowance_per_rate_and_a_charge_outside_vat(tenant_alpha):
    invoice = nl_invoice(adjustments=[("discount", "Loyalty", "20.00"), ("fee", "Shipping", "7.50")])
    xml = invoice_ubl(invoice)
    _valid(xml)
    # The engine apportioned 20.00 over the nets 200.00 / 33.75 / 49.99: 14.11 + 2.37 at 21%, 3.52 at 9%.
    assert values(xml, "cac:AllowanceCharge[cbc:ChargeIndicator='false']/cbc:Amount") == ["16.48", "3.52"]
    assert values(xml, "cac:AllowanceCharge[cbc:ChargeIndicator='true']/cbc:Amount") == ["7.50"]
    assert values(xml, "cac:AllowanceCharge[cbc:ChargeIndicator='true']/cbc:AllowanceChargeReason") == ["Shipping"]
    assert values(xml, f"{SUBTOTALS}/cac:TaxCategory/cbc:ID") == ["S", "S", "E"]
    assert values(xml, f"{SUBTOTALS}/cbc:TaxableAmount") == ["217.27", "46.47", "7.50"]
    assert values(xml, f"{SUBTOTALS}/cbc:TaxAmount") == ["45.63", "4.18", "0.00"]
    assert values(xml, f"{SUBTOTALS}/cac:TaxCategory/cbc:TaxExemptionReasonCode") == ["VATEX-EU-79-C"]
    assert value(xml, "cac:LegalMonetaryTotal/cbc:AllowanceTotalAmount") == "20.00"
    assert value(xml, "cac:LegalMonetaryTotal/cbc:ChargeTotalAmount") == "7.50"
    assert value(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount") == f"{invoice.total:f}" == "321.05"


def test_reverse_charge_invoice_is_category_ae_with_its_exemption_reason_and_both_vat_numbers(tenant_alpha):
    invoice = reverse_charge_invoice()
    xml = invoice_ubl(invoice)
    _valid(xml)
    assert values(xml, f"{SUBTOTALS}/cac:TaxCategory/cbc:ID") == ["AE"]
    assert value(xml, f"{SUBTOTALS}/cac:TaxCategory/cbc:Percent") == "0"
    assert value(xml, f"{SUBTOTALS}/cac:TaxCategory/cbc:TaxExemptionReasonCode") == "VATEX-EU-AE"
    assert value(xml, f"{SUBTOTALS}/cbc:TaxableAmount") == "1000.00"
    assert value(xml, f"{SUBTOTALS}/cbc:TaxAmount") == "0.00"
    assert value(xml, "cac:InvoiceLine/cac:Item/cac:ClassifiedTaxCategory/cbc:ID") == "AE"
    assert value(xml, "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID") == "BE0123456749"
    assert value(xml, "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID/@schemeID") == "0208"
    assert value(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "1000.00"


def test_credit_note_refers_to_its_invoice_and_gives_back_exactly_its_vat(tenant_alpha):
    invoice = nl_invoice()
    note = credit_whole(invoice)
    xml = credit_note_ubl(note)
    _valid(xml)
    assert value(xml, "cbc:CreditNoteTypeCode") == "381"
    assert value(xml, "cbc:ID") == note.number
    assert value(xml, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == invoice.number
    assert value(xml, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == "2026-03-02"
    assert values(xml, f"{SUBTOTALS}/cbc:TaxAmount") == ["49.09", "4.50"]
    assert value(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "337.33"
    assert values(xml, "cac:CreditNoteLine/cbc:CreditedQuantity") == ["2", "3", "1"]
    assert value(xml, "cbc:Note") == "Returned"


def test_partial_credit_note_of_an_amount_is_one_line_of_quantity_one(tenant_alpha):
    from billing.services.credit_notes import AmountCredit, credit_note_create

    invoice = nl_invoice()
    note = credit_note_create(
        invoice=invoice, actor=None, amounts=[AmountCredit("Goodwill", Decimal("10.00"), 0)], reason="Late delivery"
    )
    xml = credit_note_ubl(note)
    _valid(xml)
    assert values(xml, "cac:CreditNoteLine/cbc:CreditedQuantity") == ["1"]
    assert value(xml, "cac:CreditNoteLine/cac:Item/cbc:Name") == "Goodwill"
    assert value(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "12.10"


def test_zero_rated_sale_to_norway_is_an_export_in_norwegian_kroner(tenant_alpha):
    invoice = nok_invoice()
    xml = invoice_ubl(invoice)
    _valid(xml)
    assert value(xml, "cbc:DocumentCurrencyCode") == "NOK"
    assert values(xml, f"{SUBTOTALS}/cac:TaxCategory/cbc:ID") == ["G"]
    assert value(xml, "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID") == "974760673"
    assert value(xml, "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID/@schemeID") == "0192"
    assert value(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount/@currencyID") == "NOK"
    assert value(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "4500.00"


def test_zero_rate_to_a_vat_registered_buyer_in_another_eu_country_is_an_intra_community_supply(tenant_alpha):
    from tests.integrations.exports.data import be_buyer

    company, contact = be_buyer()
    xml = invoice_ubl(finalize([("Pallets", "10", "30.00", "BTW 0%")], company=company, contact=contact))
    _valid(xml)
    assert values(xml, f"{SUBTOTALS}/cac:TaxCategory/cbc:ID") == ["K"]
    assert value(xml, "cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode") == "BE"


def test_seller_endpoint_from_the_export_settings_wins_and_buyer_endpoint_can_be_its_vat_number(tenant_alpha):
    ExportSettings.objects.create(
        pk=1, seller_endpoint_scheme="9944", seller_endpoint_id="NL000099998B57", buyer_endpoint_source="vat"
    )
    xml = invoice_ubl(nl_invoice())
    _valid(xml)
    assert value(xml, "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID/@schemeID") == "9944"
    assert value(xml, "cac:AccountingSupplierParty/cac:Party/cbc:EndpointID") == "NL000099998B57"
    assert value(xml, "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID/@schemeID") == "9944"
    assert value(xml, "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID") == "NL123456782B90"


def test_buyer_without_any_peppol_address_is_refused_with_a_reason(tenant_alpha):
    company, contact = nl_buyer(vat_number="", registration_number="", email="")
    invoice = finalize([("Consulting", "1", "10.00", "BTW 21%")], company=company, contact=contact)
    with pytest.raises(UblError) as caught:
        invoice_ubl(invoice)
    assert "The buyer has no Peppol endpoint" in caught.value.messages[0]


def test_a_draft_has_no_e_invoice(tenant_alpha):
    from tests.billing.invoicing import draft_make

    with pytest.raises(UblError):
        invoice_ubl(draft_make())
