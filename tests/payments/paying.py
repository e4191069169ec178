"""Test data for payments: an open invoice and the checkout inputs of the built-in processor (alpha tenant)."""

from decimal import Decimal

from billing.documents import invoice_settings_get
from commerce_hub.idempotency.services import key_new
from payments.models import MethodKind
from payments.processors.builtin import CARD_SUCCESS
from payments.services.payments import payment_start
from tests.billing.invoicing import finalized_make

CARD = {"number": CARD_SUCCESS, "exp_month": "12", "exp_year": "2030", "cvc": "123", "name": "Kari Nordmann"}
SEPA = {"iban": "NL91ABNA0417164300", "mandate_accepted": True, "name": "Kari Nordmann"}


def open_invoice(**kwargs):
    """A finalized EUR invoice of 242.00 (2 x 100.00 + 21% VAT) accepting cards, debits and transfers."""
    settings = invoice_settings_get()
    settings.payment_methods = ["card", "bank_debit", "bank_transfer"]
    settings.save(update_fields=["payment_methods"])
    return finalized_make(**kwargs)


def pay(invoice, *, method=MethodKind.CARD, data=None, key=None, **kwargs):
    return payment_start(
        invoice=invoice,
        attempt_key=key or key_new(),
        method=method,
        method_data=CARD if data is None and method == MethodKind.CARD else (data or {}),
        buyer_email="kari@fjordline.example",
        **kwargs,
    )


def eur(text: str) -> Decimal:
    return Decimal(text)
