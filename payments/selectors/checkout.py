"""What a checkout offers: the payment methods an invoice allows, narrowed by its currency."""

from __future__ import annotations

from dataclasses import dataclass

from billing.models import Invoice
from payments.models import MethodKind

# The invoice's accepted families (billing.models.PaymentMethod) and the checkout methods each allows, with the
# currencies each method takes (None: any).
_FAMILIES = {
    "card": [(MethodKind.CARD, None), (MethodKind.VIPPS_MOBILEPAY, {"NOK", "DKK", "EUR"})],
    "bank_debit": [(MethodKind.SEPA_DEBIT, {"EUR"}), (MethodKind.ACH_DEBIT, {"USD"})],
    "bank_transfer": [(MethodKind.IDEAL, {"EUR"})],
}

# The banks iDEAL lists (their Stripe-compatible codes), in the order Dutch buyers see them.
IDEAL_BANKS = [
    ("abn_amro", "ABN AMRO"),
    ("asn_bank", "ASN Bank"),
    ("bunq", "bunq"),
    ("ing", "ING"),
    ("knab", "Knab"),
    ("n26", "N26"),
    ("nn", "Nationale-Nederlanden"),
    ("rabobank", "Rabobank"),
    ("regiobank", "RegioBank"),
    ("revolut", "Revolut"),
    ("sns_bank", "SNS"),
    ("triodos_bank", "Triodos Bank"),
    ("van_lanschot", "Van Lanschot Kempen"),
    ("yoursafe", "Yoursafe"),
]


@dataclass(frozen=True)
class CheckoutMethod:
    key: str
    label: str


def checkout_methods(invoice: Invoice) -> list[CheckoutMethod]:
    accepted = list(invoice.payment_methods or [])
    if not accepted:
        from billing.documents import invoice_settings_get

        accepted = list(invoice_settings_get().payment_methods)
    offered: list[CheckoutMethod] = []
    for family in ("card", "bank_debit", "bank_transfer"):
        if family not in accepted:
            continue
        for method, currencies in _FAMILIES[family]:
            if currencies is None or invoice.currency in currencies:
                offered.append(CheckoutMethod(method.value, method.label))
    return offered
