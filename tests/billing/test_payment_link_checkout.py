"""Buying through a payment link: the buyer's page prices the link on the server (quantity applied), the form makes
one purchase with its contact, company and finalized invoice, paying it by card through the payments checkout
completes the purchase once (subscriptions with exact dates, one confirmation each for buyer and seller), and an
inactive link, a forged token or another tenant's token takes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.test import Client
from django.utils import timezone

from billing import events
from billing.hosted import after_payment_url
from billing.models import (
    Invoice,
    InvoiceStatus,
    LineItem,
    PaymentLinkPurchase,
    Subscription,
    SubscriptionStatus,
)
from billing.models.payment_links import PurchaseStatus
from billing.services.payment_link_checkout import payment_link_purchase_complete
from billing.services.payment_links import payment_link_set_active
from commerce_hub.accounts.models import Role
from commerce_hub.events.models import OutboxEvent
from crm.models import Company, Contact
from tests.billing.payment_link_data import HOSTING, buyer_form, hosted_url, link_make
from tests.billing.quote_paying import emails_named, run_handlers
from tests.conftest import user_make
from tests.payments.checkout_helpers import buyer, pay_card

HANDLER = "billing.payment_link_invoice_paid"


def _purchase(link, client=None, **fields):
    return (client or buyer()).post(hosted_url(link), buyer_form(**fields))


def _only_purchase(link) -> PaymentLinkPurchase:
    (purchase,) = PaymentLinkPurchase.objects.filter(link=link)
    return purchase


# --- the buyer's page -------------------------------------------------------------------------------------------------


def test_the_page_shows_items_and_totals_for_the_chosen_quantity(tenant_alpha):
    link = link_make(adjustable_quantity=True, min_quantity=1, max_quantity=10)
    response = buyer().get(hosted_url(link) + "?quantity=3")
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "no-referrer"
    # 3 x Setup 100.00 = 300.00 and 3 x Hosting 50.00 = 150.00 (first month); VAT 21% of 450.00 = 94.50.
    assert "3 × €100.00" in page and "€300.00" in page and "€150.00" in page
    assert '<td class="num" id="total-today">€544.50</td>' in page
    assert "€181.50 a month" in page  # 3 x 60.50, VAT included
    assert 'min="1" max="10"' in page


def test_a_quantity_outside_the_bounds_prices_the_minimum_and_is_refused_on_submit(tenant_alpha):
    link = link_make(adjustable_quantity=True, min_quantity=2, max_quantity=5)
    page = buyer().get(hosted_url(link) + "?quantity=999999999999999999999").content.decode()
    assert '<td class="num" id="total-today">€363.00</td>' in page  # 2 x 181.50
    response = _purchase(link, quantity="999999999999999999999")
    assert response.status_code == 422
    assert "Choose a quantity from 2 to 5." in response.content.decode()
    assert not PaymentLinkPurchase.objects.exists()


def test_the_summary_is_recomputed_for_htmx(tenant_alpha):
    link = link_make(adjustable_quantity=True, max_quantity=10)
    response = buyer().get(hosted_url(link) + "?quantity=2", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.startswith('<section class="card link-summary"')
    assert '<td class="num" id="total-today">€363.00</td>' in body


def test_the_page_speaks_the_links_language(tenant_alpha):
    link = link_make(language="nl")
    page = buyer().get(hosted_url(link)).content.decode()
    assert 'lang="nl"' in page


# --- the purchase -----------------------------------------------------------------------------------------------------


def test_a_purchase_creates_the_contact_company_and_invoice_and_goes_to_the_checkout(tenant_alpha):
    link = link_make(adjustable_quantity=True, max_quantity=10)
    response = _purchase(link, quantity="2", email="Kari@Fjordline.example")
    purchase = _only_purchase(link)
    invoice = purchase.invoice
    assert response.status_code == 302
    assert response["Location"] == f"/payments/pay/{invoice.public_token}/"
    assert (purchase.status, purchase.quantity, purchase.email) == (PurchaseStatus.OPEN, 2, "Kari@Fjordline.example")
    contact = Contact.objects.get(email__iexact="kari@fjordline.example")
    company = Company.objects.get(name="Fjordline AS")
    assert (purchase.contact, purchase.company, contact.company) == (contact, company, company)
    assert (contact.first_name, contact.last_name) == ("Kari", "Nordmann")
    assert company.domain == "fjordline.example"
    # 2 x 100.00 + 2 x 50.00 = 300.00, VAT 63.00.
    assert (invoice.status, invoice.total, invoice.currency) == (InvoiceStatus.OPEN, Decimal("363.00"), "EUR")
    assert invoice.issue_date == invoice.due_date == timezone.localdate()
    assert invoice.payment_methods == ["card"]
    assert [(li.name, li.quantity, li.frequency) for li in LineItem.objects.filter(invoice=invoice)] == [
        ("Setup", Decimal("2"), "one_time"),
        ("Hosting", Decimal("2"), "monthly"),
    ]
    assert list(invoice.contacts.all()) == [contact]


def test_an_existing_contact_is_found_by_email_whatever_its_case(tenant_alpha):
    company = Company.objects.create(name="Nordlys AS", domain="nordlys.example")
    known = Contact.objects.create(first_name="Kari", last_name="N.", email="kari@fjordline.example", company=company)
    link = link_make()
    _purchase(link, email="KARI@fjordline.EXAMPLE", company_name="")
    purchase = _only_purchase(link)
    assert Contact.objects.filter(email__iexact="kari@fjordline.example").count() == 1
    assert (purchase.contact, purchase.company) == (known, company)
    assert not Company.objects.filter(name="Fjordline AS").exists()


def test_the_company_is_found_by_the_email_domain_but_never_a_free_mail_provider(tenant_alpha):
    fjordline = Company.objects.create(name="Fjordline", domain="fjordline.example")
    gmail = Company.objects.create(name="Google", domain="gmail.com")
    link = link_make()
    _purchase(link, email="ola@fjordline.example", company_name="")
    _purchase(link, email="per.hansen@gmail.com", company_name="")
    by_email = {p.email: p for p in PaymentLinkPurchase.objects.filter(link=link)}
    assert by_email["ola@fjordline.example"].company == fjordline
    assert by_email["per.hansen@gmail.com"].company is None
    assert gmail.pk != fjordline.pk


def test_the_link_collects_the_billing_address_and_phone_it_asks_for(tenant_alpha):
    link = link_make(collect_billing_address=True, collect_phone=True)
    response = _purchase(link)
    page = response.content.decode()
    assert response.status_code == 422
    assert "Enter your phone number." not in page  # the form's own "required" comes first
    assert page.count("This field is required.") == 5  # phone, street, postal code, city, country
    response = _purchase(
        link, phone="+47 55 00 00 00", line1="Strandgaten 5", postal_code="5013", city="Bergen", country="NO"
    )
    assert response.status_code == 302
    purchase = _only_purchase(link)
    assert purchase.billing_address == {
        "line1": "Strandgaten 5",
        "line2": "",
        "postal_code": "5013",
        "city": "Bergen",
        "country": "NO",
    }
    assert purchase.phone == "+47 55 00 00 00"
    assert (purchase.company.address_line1, purchase.company.city, purchase.company.country) == (
        "Strandgaten 5",
        "Bergen",
        "NO",
    )


def test_a_double_submit_makes_one_purchase(tenant_alpha):
    link = link_make()
    form = buyer_form()
    client = buyer()
    first = client.post(hosted_url(link), form)
    second = client.post(hosted_url(link), form)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert PaymentLinkPurchase.objects.count() == 1 and Invoice.objects.count() == 1


def test_a_form_without_its_key_buys_nothing(tenant_alpha):
    link = link_make()
    form = buyer_form()
    del form["idempotency_key"]
    response = buyer().post(hosted_url(link), form)
    assert response.status_code == 400
    assert not PaymentLinkPurchase.objects.exists()


def test_a_form_with_errors_shows_them_inline(tenant_alpha):
    link = link_make()
    response = _purchase(link, email="not-an-email", name="")
    page = response.content.decode()
    assert response.status_code == 422
    assert "Please correct the fields marked below." in page
    assert "Enter a valid email address." in page and "This field is required." in page


# --- paying -----------------------------------------------------------------------------------------------------------


def test_paying_by_card_completes_the_purchase_with_its_subscription_and_emails(tenant_alpha):
    seller = user_make(Role.FINANCE, email="finance@alpha.example", full_name="Fiona Finance")
    link = link_make(actor=seller, adjustable_quantity=True, max_quantity=10, thank_you_message="Welcome aboard!")
    _purchase(link, quantity="2")
    purchase = _only_purchase(link)
    invoice = purchase.invoice
    paid = pay_card(buyer(), invoice)
    assert paid.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID

    assert run_handlers(HANDLER) == 1
    purchase.refresh_from_db()
    today = timezone.localdate()
    assert purchase.status == PurchaseStatus.PAID and purchase.paid_at is not None
    (subscription,) = Subscription.objects.filter(source_purchase=purchase)
    assert (subscription.status, subscription.frequency, subscription.currency) == (
        SubscriptionStatus.ACTIVE,
        "monthly",
        "EUR",
    )
    assert (subscription.start_date, subscription.billing_anchor, subscription.anchor_day) == (today, today, today.day)
    assert (subscription.current_period_start, subscription.current_period_end) == (
        today,
        today + relativedelta(months=1) - timedelta(days=1),
    )
    assert subscription.next_billing_date == today + relativedelta(months=1)
    assert (subscription.next_period_index, subscription.periods_billed, subscription.trial_end) == (1, 1, None)
    assert (subscription.contact, subscription.company) == (purchase.contact, purchase.company)
    assert subscription.mrr == Decimal("100.00")
    assert [(li.name, li.quantity) for li in subscription.line_items.all()] == [("Hosting", Decimal("2"))]
    assert subscription.name == "Alpha Cloud (monthly)"
    purchased = OutboxEvent.objects.filter(name=events.PAYMENT_LINK_PURCHASED.name)
    assert [e.payload["purchase_id"] for e in purchased] == [purchase.pk]
    assert purchased[0].payload["amount"] == "363.00"

    buyer_email, seller_email = emails_named("Your purchase of", "New purchase through")
    assert buyer_email.to == "kari@fjordline.example"
    assert buyer_email.subject == "Your purchase of Alpha Cloud from Alpha Handel B.V."
    assert f"we received your payment of €363.00. Invoice {invoice.number} is paid." in buyer_email.text
    assert "Hosting × 2" in buyer_email.text
    assert "Alpha Cloud (monthly): €121.00 (Monthly)" in buyer_email.text
    assert seller_email.to == "finance@alpha.example"
    assert seller_email.subject == "New purchase through Alpha Cloud: €363.00 from Kari Nordmann"

    # The handler delivered twice (at least once delivery) changes nothing.
    assert payment_link_purchase_complete(purchase=purchase) is False
    assert Subscription.objects.filter(source_purchase=purchase).count() == 1
    assert len(emails_named("Your purchase of", "New purchase through")) == 2


def test_the_thank_you_page_shows_the_links_message_once_paid(tenant_alpha):
    link = link_make(thank_you_message="Welcome aboard!")
    client = buyer()
    _purchase(link, client=client)
    purchase = _only_purchase(link)
    done_url = f"/billing/l/{link.public_token}/done/{purchase.public_id}/"
    # The seam the payments checkout asks once the invoice is paid online.
    assert after_payment_url(purchase.invoice) == done_url
    assert after_payment_url(Invoice(pk=0)) == ""
    paid = pay_card(client, purchase.invoice)
    # The payments checkout's result page sends the buyer on to the link's thank-you page.
    result = client.get(paid["Location"])
    assert (result.status_code, result["Location"]) == (302, done_url)
    assert result["Cache-Control"] == "no-store"
    page = client.get(done_url).content.decode()
    assert "Payment received" in page and "Welcome aboard!" in page
    assert f"You paid €181.50: invoice {purchase.invoice.number}." in page


def test_after_payment_a_redirect_link_sends_the_buyer_to_its_url(tenant_alpha):
    link = link_make(after_payment="redirect", redirect_url="https://alpha.example/thanks?from=link")
    client = buyer()
    _purchase(link, client=client)
    purchase = _only_purchase(link)
    done_url = f"/billing/l/{link.public_token}/done/{purchase.public_id}/"
    unpaid = client.get(done_url)
    assert unpaid.status_code == 200 and "We have not received your payment yet" in unpaid.content.decode()
    pay_card(client, purchase.invoice)
    response = client.get(done_url)
    assert (response.status_code, response["Location"]) == (302, "https://alpha.example/thanks?from=link")


def test_a_trial_of_recurring_lines_only_starts_at_once_and_bills_when_it_ends(tenant_alpha):
    link = link_make(lines=(HOSTING,), trial_days=14)
    page = buyer().get(hosted_url(link)).content.decode()
    assert "After a free trial of 14 days" in page and "Nothing is charged today." in page
    response = _purchase(link)
    purchase = _only_purchase(link)
    today = timezone.localdate()
    assert purchase.invoice is None and purchase.status == PurchaseStatus.PAID
    assert response["Location"] == f"/billing/l/{link.public_token}/done/{purchase.public_id}/"
    (subscription,) = Subscription.objects.filter(source_purchase=purchase)
    trial_end = today + timedelta(days=14)
    assert (subscription.status, subscription.trial_end, subscription.next_billing_date) == (
        SubscriptionStatus.ACTIVE,
        trial_end,
        trial_end,
    )
    assert (subscription.billing_anchor, subscription.anchor_day, subscription.next_period_index) == (
        trial_end,
        trial_end.day,
        0,
    )
    (buyer_email,) = emails_named("Your purchase of")
    assert (
        f"free until {trial_end:%-d %B %Y}".replace(" 0", " ") in buyer_email.text or "free until" in buyer_email.text
    )


def test_a_trial_with_a_one_time_line_bills_only_that_line_today(tenant_alpha):
    link = link_make(trial_days=30)
    _purchase(link)
    purchase = _only_purchase(link)
    assert purchase.invoice.total == Decimal("121.00")
    assert [li.name for li in LineItem.objects.filter(invoice=purchase.invoice)] == ["Setup"]
    pay_card(buyer(), purchase.invoice)
    run_handlers(HANDLER)
    (subscription,) = Subscription.objects.filter(source_purchase=purchase)
    assert subscription.trial_end == timezone.localdate() + timedelta(days=30)
    assert [(li.name, li.quantity) for li in subscription.line_items.all()] == [("Hosting", Decimal("1"))]


# --- an inactive link -------------------------------------------------------------------------------------------------


def test_an_inactive_link_shows_a_clear_page_and_takes_no_payment(tenant_alpha):
    link = link_make()
    payment_link_set_active(link=link, active=False, actor=None)
    response = buyer().get(hosted_url(link))
    page = response.content.decode()
    assert response.status_code == 200
    assert "This payment link is no longer available" in page and "Continue to payment" not in page
    response = _purchase(link)
    assert response.status_code == 409
    assert not PaymentLinkPurchase.objects.exists() and not Invoice.objects.exists()


def test_a_link_deactivated_while_the_buyer_is_on_the_page_takes_nothing(tenant_alpha):
    link = link_make()
    client = buyer()
    assert "Continue to payment" in client.get(hosted_url(link)).content.decode()
    payment_link_set_active(link=link, active=False, actor=None)
    response = _purchase(link, client=client)
    assert response.status_code == 409
    assert "This payment link is no longer available" in response.content.decode()
    assert not PaymentLinkPurchase.objects.exists()


def test_deactivating_voids_the_open_invoices_of_unpaid_purchases(tenant_alpha):
    link = link_make()
    _purchase(link)
    purchase = _only_purchase(link)
    payment_link_set_active(link=link, active=False, actor=None)
    purchase.refresh_from_db()
    purchase.invoice.refresh_from_db()
    assert (purchase.status, purchase.invoice.status) == (PurchaseStatus.EXPIRED, InvoiceStatus.VOID)
    assert buyer().get(f"/payments/pay/{purchase.invoice.public_token}/").status_code in (200, 404)
    assert (
        "Pay"
        not in buyer()
        .get(f"/payments/pay/{purchase.invoice.public_token}/")
        .content.decode()
        .split("checkout-state")[0][-1:]
    )


# --- tokens -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    ["x" * 43, "short", "a" * 200, "%00" * 20, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"],
)
def test_a_forged_token_is_not_found(tenant_alpha, token):
    link_make()
    response = buyer().get(f"/billing/l/{token}/")
    assert response.status_code == 404
    assert response["Cache-Control"] == "no-store"
    assert buyer().post(f"/billing/l/{token}/", buyer_form()).status_code in (403, 404)


def test_another_tenants_token_is_not_found(tenant_alpha, tenant_bravo):
    link = link_make()
    bravo = Client(HTTP_HOST="bravo.localhost")
    assert bravo.get(hosted_url(link)).status_code == 404
    connection.set_tenant(tenant_alpha)
    purchase_url = f"/billing/l/{link.public_token}/done/{'a' * 22}/"
    assert buyer().get(purchase_url).status_code == 404


def test_a_purchase_of_another_link_is_not_found_under_this_one(tenant_alpha):
    first, second = link_make(name="First"), link_make(name="Second")
    _purchase(first)
    purchase = _only_purchase(first)
    assert buyer().get(f"/billing/l/{second.public_token}/done/{purchase.public_id}/").status_code == 404


def test_guessing_tokens_is_rate_limited(tenant_alpha, settings):
    link_make()
    client = buyer()
    codes = [client.get(f"/billing/l/{'g' * 40}{n:03d}/").status_code for n in range(40)]
    assert codes[0] == 404 and 429 in codes
