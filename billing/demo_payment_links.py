"""Demo payment links: a monthly plan in EUR with adjustable seats, a training day in NOK that sends buyers on to
the seller's site, and a retired onboarding offer, each with a few purchases paid by bank transfer, all made through
the payment link services. The buyers are demo contacts of Dutch and Norwegian customers (found by their email, so
the purchases add no contacts or companies)."""

from __future__ import annotations

from billing.editor import owner_for
from billing.models import PaymentLink, Product
from billing.services.invoice_payments import invoice_record_payment
from billing.services.line_items import line_items_add_products
from billing.services.payment_link_checkout import (
    BuyerDetails,
    payment_link_purchase_complete,
    payment_link_purchase_start,
)
from billing.services.payment_links import PaymentLinkValues, payment_link_create, payment_link_set_active
from commerce_hub.accounts.models import User
from crm.models import Contact

LINKS = [
    (
        PaymentLinkValues(
            name="Commerce Hub Professional, monthly",
            currency="EUR",
            language="nl",
            payment_methods=["card", "bank_debit", "bank_transfer"],
            adjustable_quantity=True,
            min_quantity=1,
            max_quantity=50,
            thank_you_message="Bedankt! Je ontvangt binnen een uur je inloggegevens per e-mail.",
        ),
        ["HUB-PRO"],
        ("NL", [3, 10, 1]),
        True,
    ),
    (
        PaymentLinkValues(
            name="Training day on site",
            currency="NOK",
            language="nb",
            payment_methods=["card", "bank_transfer"],
            collect_billing_address=True,
            collect_phone=True,
            after_payment="redirect",
            redirect_url="https://noorderlicht.example/no/takk",
        ),
        ["TRN-DAY"],
        ("NO", [1, 1]),
        True,
    ),
    (
        PaymentLinkValues(
            name="Onboarding package (spring offer)",
            currency="EUR",
            language="en",
            payment_methods=["card", "bank_transfer"],
            thank_you_message="Thank you! We will call you this week to plan the onboarding.",
        ),
        ["ONB-STD"],
        ("NL", [1]),
        False,
    ),
]
ADDRESS = {"line1": "Storgata 12", "line2": "", "postal_code": "0155", "city": "Oslo", "country": "NO"}


def seed(ctx) -> None:
    if ctx.scale or PaymentLink.objects.exists() or not Product.objects.exists():
        return
    admin = User.objects.filter(role="admin").order_by("pk").first()
    by_sku = {p.sku: p for p in Product.objects.all()}
    taken: set[int] = set()
    for values, skus, (country, quantities), active in LINKS:
        if any(sku not in by_sku for sku in skus):
            continue
        contacts = list(
            Contact.objects.filter(company__country=country)
            .exclude(pk__in=taken)
            .select_related("company")
            .order_by("pk")[: len(quantities)]
        )
        taken.update(c.pk for c in contacts)
        buyers = [(c.full_name, c.email, c.company.name, q) for c, q in zip(contacts, quantities, strict=False)]
        link = payment_link_create(values=values, actor=admin)
        line_items_add_products(
            owner=owner_for("payment_link", link), product_ids=[by_sku[s].pk for s in skus], actor=admin
        )
        for name, email, company, quantity in buyers:
            purchase = payment_link_purchase_start(
                link=link,
                buyer=BuyerDetails(
                    email=email,
                    name=name,
                    company_name=company,
                    phone="+47 22 00 00 00" if values.collect_phone else "",
                    billing_address=ADDRESS if values.collect_billing_address else {},
                    quantity=quantity,
                ),
            )
            invoice = purchase.invoice
            if invoice is not None and invoice.status == "open":
                invoice_record_payment(
                    invoice=invoice,
                    amount=invoice.total,
                    paid_on=invoice.issue_date,
                    method="bank_transfer",
                    reference=f"{invoice.number} {link.name}"[:100],
                    actor=admin,
                )
            payment_link_purchase_complete(purchase=purchase)
        if not active:
            payment_link_set_active(link=link, active=False, actor=admin)
