"""Demo invoices: a draft, open ones due this month and later, overdue ones in several aging buckets, a partly
paid one, a paid one, Norwegian ones in NOK (one overpaid, leaving customer credit) and a payment reversed as a
booking mistake, so every invoice view has something to show."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from billing.documents import invoice_settings_get
from billing.models import Invoice, LineItem, Product, TaxRate
from billing.services.invoice_payments import invoice_record_payment, payment_reverse
from billing.services.invoices import invoice_create, invoice_finalize
from commerce_hub.accounts.models import User
from crm.models import Company

D = Decimal
# company country, currency, days ago issued (None: draft), terms, products (sku, quantity), paid share
INVOICES = [
    ("NL", "EUR", None, 14, [("ONB-STD", 1)], None),
    ("NL", "EUR", 3, 30, [("HUB-PRO", 10), ("TRN-DAY", 1)], None),
    ("NL", "EUR", 10, 14, [("SUP-PRI", 1)], None),
    ("NL", "EUR", 40, 14, [("HUB-PRO", 5)], None),
    ("NL", "EUR", 70, 14, [("TRN-DAY", 2)], D("0.5")),
    ("NL", "EUR", 120, 30, [("ONB-STD", 1), ("SUP-PRI", 1)], None),
    ("NL", "EUR", 20, 14, [("HUB-ENT", 3)], D(1)),
    ("NO", "NOK", 5, 14, [("HUB-PRO", 8)], None),
    ("NO", "NOK", 45, 14, [("ONB-STD", 1)], None),
    ("NO", "NOK", 25, 14, [("SUP-PRI", 1)], D("1.1")),  # overpaid: the rest is the customer's credit
]


def seed(ctx) -> None:
    if ctx.scale or Invoice.objects.exists() or not Product.objects.exists():
        return
    admin = User.objects.filter(role="admin").order_by("pk").first()
    settings = invoice_settings_get()
    settings.bank_account_holder = settings.bank_account_holder or "Noorderlicht Software B.V."
    settings.iban = settings.iban or "NL91ABNA0417164300"
    settings.bic = settings.bic or "ABNANL2A"
    settings.footer_text = settings.footer_text or "Thank you for your business."
    settings.payment_methods = ["bank_transfer", "card", "bank_debit"]
    settings.save()
    today = timezone.localdate()
    products = {p.sku: p for p in Product.objects.prefetch_related("prices")}
    vat = {"NL": TaxRate.objects.filter(name="BTW 21%").first(), "NO": TaxRate.objects.filter(name="MVA 25%").first()}
    companies = {
        country: list(Company.objects.filter(country=country).prefetch_related("contacts").order_by("pk")[:6])
        for country in ("NL", "NO")
    }
    for index, (country, currency, days_ago, terms, skus, paid_share) in enumerate(INVOICES):
        pool = companies[country]
        if not pool:
            continue
        company = pool[index % len(pool)]
        invoice = invoice_create(
            actor=admin, company=company, contacts=list(company.contacts.all()[:1]), currency=currency
        )
        invoice.payment_terms_days = terms
        invoice.save(update_fields=["payment_terms_days"])
        for position, (sku, quantity) in enumerate(skus):
            product = products[sku]
            price = next(p.unit_price for p in product.prices.all() if p.currency == currency)
            LineItem.objects.create(
                invoice=invoice,
                position=position,
                product=product,
                name=product.name,
                sku=sku,
                quantity=D(quantity),
                unit_price=price,
                currency=currency,
                tax_rate=vat[country],
            )
        if days_ago is None:
            continue
        invoice = invoice_finalize(invoice=invoice, actor=admin, issue_date=today - timedelta(days=days_ago))
        if paid_share:
            invoice_record_payment(
                invoice=invoice,
                amount=(invoice.total * paid_share).quantize(D("0.01")),
                paid_on=invoice.issue_date + timedelta(days=min(days_ago, 7)),
                method="bank_transfer",
                reference=f"Transfer {invoice.number}",
                actor=admin,
            )
    _mistaken_payment(admin=admin, today=today)


def _mistaken_payment(*, admin, today) -> None:
    """A transfer booked on the wrong invoice and reversed, as finance staff correct it."""
    invoice = Invoice.objects.filter(status="open", currency="EUR").order_by("due_date", "pk").first()
    if invoice is None:
        return
    payment = invoice_record_payment(
        invoice=invoice,
        amount=D("100.00"),
        paid_on=today - timedelta(days=2),
        method="bank_transfer",
        reference="Transfer 88213",
        actor=admin,
    )
    payment_reverse(payment=payment, reason="Booked on the wrong invoice", actor=admin)
