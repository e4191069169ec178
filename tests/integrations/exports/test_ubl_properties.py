"""Properties of the e-invoice, checked with hypothesis over documents the pricing engine prices: whatever the lines,
discounts, fees and VAT rates, the UBL passes the schema and the sums of the business rules, and the amount payable
is the stored total to the cent."""

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from billing import editor
from billing.documents import document_figures
from billing.models import DocumentAdjustment, LineItem, TaxRate
from billing.pricing import PricingError
from integrations.exports.ubl import document_invoice_ubl
from integrations.models import ExportSettings
from tests.integrations.exports.peppol import rule_errors, value, xsd_errors

pytestmark = pytest.mark.django_db

RATES = {
    "BTW 21%": TaxRate(name="BTW 21%", rate=Decimal(21), category="standard"),
    "BTW 9%": TaxRate(name="BTW 9%", rate=Decimal(9), category="reduced"),
    "BTW 0%": TaxRate(name="BTW 0%", rate=Decimal(0), category="zero"),
    "EU reverse charge": TaxRate(name="EU reverse charge", rate=Decimal(0), category="reverse_charge"),
}
SELLER = {
    "legal_name": "Alpha Handel B.V.",
    "address_line1": "Keizersgracht 1",
    "postal_code": "1015 AA",
    "city": "Amsterdam",
    "country": "NL",
    "vat_number": "NL000099998B57",
    "registration_number": "12345678",
}
BUYER = {
    "name": "Brouwerij Zuid BV",
    "address_line1": "Grote Markt 3",
    "postal_code": "2000",
    "city": "Antwerpen",
    "country": "BE",
    "vat_number": "BE0123456749",
    "registration_number": "0123456749",
    "emails": [],
}

lines = st.lists(
    st.tuples(
        st.decimals(min_value=Decimal("0.001"), max_value=Decimal(500), places=3),  # quantity
        st.decimals(min_value=Decimal(0), max_value=Decimal(2000), places=4),  # unit price
        st.sampled_from(list(RATES)),
        st.sampled_from([("", 0), ("percent", 15), ("amount", 1)]),
    ),
    min_size=1,
    max_size=6,
)
adjustments = st.lists(
    st.tuples(
        st.sampled_from(["discount", "fee", "tax"]),
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal(30), places=2),
    ),
    max_size=3,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=lines, adjustments=adjustments, currency=st.sampled_from(["EUR", "NOK"]))
def test_any_priced_invoice_is_valid_and_payable_is_its_stored_total(tenant_alpha, lines, adjustments, currency):
    items = [
        LineItem(
            name=f"Line {i}",
            quantity=q,
            unit_price=p,
            currency=currency,
            tax_rate=RATES[rate],
            discount_type=kind,
            discount_value=Decimal(value_),
        )
        for i, (q, p, rate, (kind, value_)) in enumerate(lines)
    ]
    subtotal_guess = sum((q * p for q, p, _r, _d in lines), Decimal(0))
    extra = [
        DocumentAdjustment(kind=kind, label=kind.title(), amount=amount)
        for kind, amount in adjustments
        if kind != "discount" or amount < subtotal_guess / 4
    ]
    try:
        summary = editor.summary(items, extra, currency=currency)
    except PricingError:
        assume(False)  # a document the editor would refuse (a discount above the price)
    document = {
        "kind": "invoice",
        "number": "INV-1",
        "currency": currency,
        "language": "en",
        "issue_date": "2026-03-02",
        "due_date": "2026-03-16",
        "payment_terms_days": 14,
        "seller": SELLER,
        "buyer": BUYER,
        **document_figures(items, summary),
    }
    xml = document_invoice_ubl(document, settings=ExportSettings(pk=1))
    assert xsd_errors(xml) == []
    assert rule_errors(xml) == []
    assert Decimal(value(xml, "cac:LegalMonetaryTotal/cbc:PayableAmount")) == summary.total
    assert Decimal(value(xml, "cac:TaxTotal/cbc:TaxAmount")) == summary.vat_total
