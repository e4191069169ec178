"""Demo quotes, through the same services a rep and a buyer use: a draft, a published one the buyer has opened, one
with a payment schedule, one the buyer declined, and one signed and paid whose monthly lines became a subscription
(its checkout invoice paid by bank transfer), so every quote state and the deal panels have something to show."""

from datetime import timedelta

from django.utils import timezone

from billing.editor import owner_for
from billing.models import Product, Quote, QuoteSigner, TaxRate
from billing.services.invoice_payments import invoice_record_payment
from billing.services.line_items import line_items_add_products
from billing.services.quote_checkout import quote_checkout_complete, quote_checkout_start
from billing.services.quote_publishing import quote_decline, quote_publish, quote_viewed
from billing.services.quote_schedule import InstallmentInput, quote_schedule_set
from billing.services.quote_signing import quote_sign
from billing.services.quotes import QuoteOptions, quote_create_from_deal, quote_create_new_deal, quote_update_options
from commerce_hub.accounts.models import User
from crm.models import Company, Deal

DEMO_BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Safari/605.1.15"


def _options(quote: Quote, *, signature: bool, payment: bool, actor) -> Quote:
    return quote_update_options(
        quote=quote,
        values=QuoteOptions(
            signature_required=signature,
            payment_enabled=payment,
            payment_methods=["card", "bank_transfer"] if payment else [],
        ),
        actor=actor,
    )


def _sign_all(publication) -> None:
    """Every signer signs with a typed name from the same office address. The demo buyers' one-time codes went to
    example inboxes nobody reads, so their email confirmation is recorded as done."""
    for signer in QuoteSigner.objects.filter(publication=publication).order_by("position", "id"):
        now = timezone.now()
        QuoteSigner.objects.filter(pk=signer.pk).update(verified_at=now)
        quote_sign(
            publication=publication,
            signer_id=signer.pk,
            verified_at=now.isoformat(),
            kind="typed",
            name=signer.name,
            pdf_sha256=publication.pdf_sha256,
            agreed=True,
            ip_address="198.51.100.23",
            user_agent=DEMO_BROWSER,
        )


def seed(ctx) -> None:
    if ctx.scale or Quote.objects.exists() or not Product.objects.exists():
        return
    admin = User.objects.filter(role="admin").order_by("pk").first()
    deals = list(Deal.objects.filter(stage__kind="open", line_items__isnull=False).distinct().order_by("pk")[:3])
    if len(deals) < 3:
        return
    today = timezone.localdate()

    # Signed and paid: the monthly licences became a subscription, the onboarding was billed once.
    paid = quote_create_from_deal(deal=deals[0], actor=admin)
    paid = _options(paid, signature=True, payment=True, actor=admin)
    publication = quote_publish(quote=paid, actor=admin, notify=False)
    quote_viewed(publication=publication)
    _sign_all(publication)
    invoice = quote_checkout_start(quote=paid, publication=publication)
    invoice_record_payment(
        invoice=invoice,
        amount=invoice.total,
        paid_on=today,
        method="bank_transfer",
        reference=f"{paid.number} {invoice.number}",
        actor=admin,
    )
    quote_checkout_complete(invoice=invoice)

    # Published and opened by the buyer, waiting for a signature.
    viewed = quote_create_from_deal(deal=deals[1], actor=admin)
    quote_viewed(publication=quote_publish(quote=viewed, actor=admin, notify=False))

    # A draft the rep is still working on.
    quote_create_from_deal(deal=deals[2], actor=admin)

    # One-time work paid in two installments: half at signing, half a month later.
    company = Company.objects.filter(country="NL").order_by("pk").first()
    if company is None:
        return
    project = quote_create_new_deal(
        name="Data migration project", company=company, contact=company.contacts.first(), currency="EUR", actor=admin
    )
    products = Product.objects.filter(sku__in=["ONB-STD", "TRN-DAY"]).order_by("sku")
    line_items_add_products(owner=owner_for("quote", project), product_ids=[p.pk for p in products], actor=admin)
    project = _options(Quote.objects.get(pk=project.pk), signature=True, payment=True, actor=admin)
    quote_schedule_set(
        quote=project,
        installments=[
            InstallmentInput(name="Deposit", percent=50),
            InstallmentInput(name="On delivery", percent=50, due_date=today + timedelta(days=30)),
        ],
        actor=admin,
    )
    quote_publish(quote=project, actor=admin, notify=False)

    # Declined by the buyer, with their reason.
    norwegian = Company.objects.filter(country="NO").order_by("pk").first()
    if norwegian is None or not TaxRate.objects.exists():
        return
    declined = quote_create_new_deal(
        name="Fjordline rollout", company=norwegian, contact=norwegian.contacts.first(), currency="NOK", actor=admin
    )
    products = Product.objects.filter(sku__in=["HUB-PRO"])
    line_items_add_products(owner=owner_for("quote", declined), product_ids=[p.pk for p in products], actor=admin)
    declined = _options(Quote.objects.get(pk=declined.pk), signature=False, payment=False, actor=admin)
    publication = quote_publish(quote=declined, actor=admin, notify=False)
    quote_viewed(publication=publication)
    quote_decline(publication=publication, reason="We are staying with our current system this year.")
