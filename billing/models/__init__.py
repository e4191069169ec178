from billing.models.exchange_rates import ExchangeRate
from billing.models.line_items import DocumentAdjustment, LineItem
from billing.models.product_imports import ProductImportJob, ProductImportRowError
from billing.models.products import BundleComponent, PriceTier, Product, ProductFolder, ProductPrice
from billing.models.tax_rates import TaxRate

__all__ = [
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
