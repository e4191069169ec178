"""Demo product library and line items: what a Dutch software company sells, priced in EUR and NOK."""

from decimal import Decimal

from billing.editor import owner_for
from billing.models import Product, TaxRate
from billing.models.choices import Frequency, PricingModel
from billing.services.line_items import line_items_add_products
from billing.services.products import PriceInput, ProductInput, TierInput, product_create
from commerce_hub.accounts.models import User
from crm.models import Deal

D = Decimal
PRODUCTS = [
    # sku, name, frequency, term (months), EUR price, NOK price, unit cost, tiers (EUR, NOK)
    ("HUB-PRO", "Commerce Hub Professional (per user)", Frequency.MONTHLY, 12, "49", "549", "6", None),
    ("HUB-ENT", "Commerce Hub Enterprise (per user)", Frequency.ANNUAL, 36, "890", "9900", "80", None),
    ("ONB-STD", "Onboarding package", Frequency.ONE_TIME, None, "2500", "28000", "900", None),
    ("SUP-PRI", "Priority support", Frequency.QUARTERLY, 12, "450", "5000", "120", None),
    ("TRN-DAY", "Training day on site", Frequency.ONE_TIME, None, "1200", "13500", "400", None),
    (
        "API-CALLS",
        "API calls (per 1,000)",
        Frequency.MONTHLY,
        None,
        "0",
        "0",
        None,
        [("10000", "0.50", "5.50"), (None, "0.30", "3.30")],
    ),
]


def seed(ctx) -> None:
    if ctx.scale or Product.objects.exists():
        return
    admin = User.objects.filter(role="admin").order_by("pk").first()
    vat_nl = TaxRate.objects.filter(country="NL", rate=D("21")).first()
    products = []
    for sku, name, frequency, term, eur, nok, cost, tiers in PRODUCTS:
        data = ProductInput(
            name=name,
            sku=sku,
            billing_frequency=frequency,
            term_months=term,
            tax_rate_id=vat_nl.pk if vat_nl else None,
            unit_cost=D(cost) if cost else None,
            cost_currency="EUR" if cost else "",
            new_folder="Software",
            prices=[PriceInput("EUR", D(eur)), PriceInput("NOK", D(nok))],
        )
        if tiers:
            data.pricing_model = PricingModel.GRADUATED
            data.tiers = [TierInput("EUR", D(up) if up else None, D(e)) for up, e, _n in tiers] + [
                TierInput("NOK", D(up) if up else None, D(n)) for up, _e, n in tiers
            ]
        products.append(product_create(data=data, actor=admin))
    # A few open deals already carry line items, so the editor and the metrics have something to show.
    by_sku = {p.sku: p for p in products}
    for deal, skus in zip(
        Deal.objects.filter(stage__kind="open").order_by("pk")[:3],
        [["HUB-PRO", "ONB-STD"], ["HUB-ENT", "SUP-PRI", "TRN-DAY"], ["HUB-PRO", "SUP-PRI"]],
        strict=False,
    ):
        line_items_add_products(owner=owner_for("deal", deal), product_ids=[by_sku[s].pk for s in skus], actor=admin)
