from billing.models.exchange_rates import ExchangeRate
from billing.models.invoice_settings import InvoiceSettings, LateFeeMode, NumberSeries, PaymentMethod, ReminderStep
from billing.models.invoices import (
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceEvent,
    InvoicePayment,
    InvoiceStatus,
    PaymentMethodKind,
    ReminderSent,
)
from billing.models.line_items import DocumentAdjustment, LineItem
from billing.models.product_imports import ProductImportJob, ProductImportRowError
from billing.models.products import BundleComponent, PriceTier, Product, ProductFolder, ProductPrice
from billing.models.receivables import EntryKind, ReceivableEntry
from billing.models.tax_rates import TaxRate

__all__ = [
    "CreditNote",
    "EntryKind",
    "ReceivableEntry",
    "CreditNoteLine",
    "Invoice",
    "InvoiceEvent",
    "InvoicePayment",
    "InvoiceSettings",
    "InvoiceStatus",
    "LateFeeMode",
    "NumberSeries",
    "PaymentMethod",
    "PaymentMethodKind",
    "ReminderSent",
    "ReminderStep",
    "BundleComponent",
    "DocumentAdjustment",
    "ExchangeRate",
    "LineItem",
    "PriceTier",
    "Product",
    "ProductFolder",
    "ProductImportJob",
    "ProductImportRowError",
    "ProductPrice",
    "TaxRate",
]
