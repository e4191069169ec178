"""The quote journey in chromium, end to end through the pages: a sales rep makes a quote from a deal, adds a
one-time library product and a monthly one through the line item editor, asks for a signature and card payment,
publishes it; the buyer opens the link, confirms their email with the code from the email, signs with a typed name,
pays by card with the built-in processor's test card and sees success; the rep then finds, on the deal, the quote
paid, its checkout invoice paid and the new monthly subscription."""

import hashlib
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context
from playwright.sync_api import expect

from billing.documents import invoice_settings_get
from billing.models import Invoice, LineItem, Product, ProductPrice, Quote, QuoteSigner, Subscription, TaxRate
from commerce_hub.accounts.models import Role, User
from crm.demo_data import default_pipeline_ensure
from crm.models import Deal
from payments.models import Payment
from payments.processors.builtin import CARD_SUCCESS
from tests.billing.invoicing import buyer_make, seller_ready
from tests.billing.quote_publishing_data import last_code

pytestmark = pytest.mark.e2e
PASSWORD = "browser-test-pass-1"
PHONE, DESKTOP = 390, 1440


@pytest.fixture
def journey_data(live_tenant, eager_tasks, settings, tmp_path):
    # The PDFs that publishing and signing store go with this test's temporary folder.
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": settings.STORAGES["default"]["BACKEND"], "OPTIONS": {"location": str(tmp_path)}}
    }
    User.objects.create_user(email="rita@live.example", password=PASSWORD, full_name="Rita Rep", role=Role.SALES)
    seller_ready(legal_name="Live Handel B.V.")
    invoice_settings = invoice_settings_get()
    invoice_settings.payment_methods = ["card", "bank_transfer"]
    invoice_settings.save(update_fields=["payment_methods"])
    company, kari = buyer_make()
    stage = default_pipeline_ensure().stages.order_by("position", "id").first()
    deal = Deal.objects.create(
        name="Fjordline fleet", pipeline=stage.pipeline, stage=stage, amount_currency="EUR", company=company
    )
    deal.contacts.add(kari)
    vat = TaxRate.objects.get(name="BTW 21%")
    scanner = Product.objects.create(name="Rugged scanner", sku="SCN-1", tax_rate=vat)
    ProductPrice.objects.create(product=scanner, currency="EUR", unit_price=Decimal("1200.00"))
    licence = Product.objects.create(
        name="Fleet tracking licence", sku="FTL-1", tax_rate=vat, billing_frequency="monthly"
    )
    ProductPrice.objects.create(product=licence, currency="EUR", unit_price=Decimal("50.00"))
    connection.set_schema_to_public()
    return {"deal": deal.pk}


def _shots(page, name: str, screenshot) -> None:
    """The page as it is now, at a phone's width and a desktop's, then back to the width it had."""
    width = page.viewport_size["width"]
    for shot_width in (PHONE, DESKTOP):
        page.set_viewport_size({"width": shot_width, "height": 900})
        # The sidebar slides away below its breakpoint: wait for it to be gone before the picture.
        page.evaluate("Promise.all(document.getAnimations().map((a) => a.finished))")
        assert page.evaluate("document.documentElement.scrollWidth") <= shot_width, f"{name} is wider than the window"
        screenshot(page, f"quote-journey-{name}-{shot_width}")
    page.set_viewport_size({"width": width, "height": 900})


_WIRED = "(selector) => { const f = document.querySelector(selector); return f && f['htmx-internal-data']; }"


def _add_from_library(page, search: str, name: str) -> None:
    # htmx wires swapped-in content after it settles: click, type or tick before that and htmx never hears it.
    page.wait_for_function(_WIRED, arg="#line-editor a[hx-get*='library']")
    page.get_by_role("button", name="Add from library").click()
    expect(page.locator(".library-row")).to_have_count(2)  # the whole library again, not the last search's list
    page.wait_for_function(_WIRED, arg="form.library-search")
    page.get_by_label("Search products").press_sequentially(search)
    # The search swaps in a new list (its own form) once typing pauses: tick in that one.
    expect(page.locator(".library-row")).to_have_count(1)
    expect(page.locator(".library-row")).to_contain_text(name)
    page.wait_for_function(_WIRED, arg="#library-results")
    page.get_by_label(name).check()
    page.get_by_role("button", name="Add selected").click()


def test_a_rep_quotes_a_deal_and_the_buyer_signs_and_pays_by_card(browser, live_server_port, journey_data, screenshot):
    base = f"http://live.localhost:{live_server_port}"
    deal_pk = journey_data["deal"]
    started = timezone.now()
    today = timezone.localdate()

    # --- the rep builds the quote from the deal ---------------------------------------------------------------------
    rep = browser.new_context(viewport={"width": DESKTOP, "height": 900}, locale="en-GB")
    page = rep.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill("rita@live.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Welcome, Rita Rep")).to_be_visible()

    page.goto(f"{base}/crm/deals/{deal_pk}/")
    expect(page.get_by_role("heading", name="Fjordline fleet")).to_be_visible()
    page.locator("#quotes-panel").get_by_role("button", name="New quote").click()

    expect(page.locator("#step-progress")).to_have_text("Step 1 of 8")
    page.get_by_label("Title").fill("Fleet tracking for Bergen")
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Buyer and sender", exact=True)).to_be_visible()
    expect(page.get_by_label("Kari Nordmann")).to_be_checked()
    page.get_by_role("button", name="Save and continue").click()

    expect(page.locator("#step-progress")).to_have_text("Step 3 of 8")
    _add_from_library(page, "rugged", "Rugged scanner")
    expect(page.locator("#line-rows tr")).to_have_count(1)
    _add_from_library(page, "fleet", "Fleet tracking licence")
    expect(page.locator("#line-rows tr")).to_have_count(2)
    expect(page.locator("#line-rows tr", has_text="Fleet tracking licence")).to_contain_text("Monthly")
    expect(page.locator('[data-metric="subtotal"]')).to_have_text("€1,250.00")
    expect(page.locator('[data-metric="tax"]')).to_have_text("€262.50")
    expect(page.locator('[data-metric="total"]')).to_have_text("€1,512.50")
    _shots(page, "lines", screenshot)
    page.get_by_role("button", name="Next →").click()

    expect(page.locator("#step-progress")).to_have_text("Step 4 of 8")
    expect(page.locator('[data-summary="total"]')).to_have_text("€1,512.50")
    page.get_by_role("button", name="Next →").click()
    expect(page.locator("#step-progress")).to_have_text("Step 5 of 8")
    page.get_by_role("button", name="Next →").click()

    expect(page.locator("#step-progress")).to_have_text("Step 6 of 8")
    page.get_by_label("The buyer signs the quote").check()
    page.get_by_label("The buyer pays through the quote").check()
    # The quote starts with the invoice settings' methods; this one is paid by card only.
    expect(page.get_by_label("Bank transfer")).to_be_checked()
    page.get_by_label("Card").check()
    page.get_by_label("Bank transfer").uncheck()
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator("#step-progress")).to_have_text("Step 7 of 8")
    page.get_by_role("button", name="Save and review").click()

    expect(page.locator("#step-progress")).to_have_text("Step 8 of 8")
    expect(page.locator(".quote-document")).to_contain_text("Rugged scanner")
    expect(page.locator(".quote-document")).to_contain_text("Fleet tracking licence")
    _shots(page, "review", screenshot)
    page.get_by_role("button", name="Publish", exact=True).click()

    expect(page.locator("#quote-status")).to_have_text("Published")
    header = page.locator(".record-header")
    expect(header).to_contain_text("Q-1001")
    expect(page.locator("#quote-payment")).to_contain_text("Due at checkout")
    expect(page.locator("#quote-payment")).to_contain_text("€1,512.50")
    _shots(page, "published", screenshot)
    hosted_path = header.get_by_role("button", name="Buyer's page").get_attribute("href")
    assert re.fullmatch(r"/billing/q/[A-Za-z0-9_-]{22,64}/", hosted_path), hosted_path

    with schema_context("t_live"):
        quote = Quote.objects.get()
        assert (quote.number, quote.status, quote.total) == ("Q-1001", "published", Decimal("1512.50"))
        assert (quote.signature_required, quote.payment_enabled, quote.payment_methods) == (True, True, ["card"])
        publication = quote.publication
        lines = {li.name: li.frequency for li in LineItem.objects.filter(quote=quote)}
        assert lines == {"Rugged scanner": "one_time", "Fleet tracking licence": "monthly"}

    # --- the buyer opens the link, confirms the email, signs, pays --------------------------------------------------
    buyer = browser.new_context(viewport={"width": PHONE, "height": 844}, locale="en-GB", has_touch=True)
    page = buyer.new_page()
    page.set_default_timeout(15000)
    page.goto(f"{base}{hosted_path}")
    expect(page.get_by_role("heading", name="Fleet tracking for Bergen")).to_be_visible()
    expect(page.get_by_text("Quote Q-1001 from Live Handel B.V.")).to_be_visible()
    expect(page.locator(".quote-amount")).to_have_text("€1,512.50")
    expect(page.locator("#quote-pay")).to_have_count(0)  # signing comes first: no Pay button yet
    _shots(page, "hosted", screenshot)

    page.get_by_role("button", name="I am Kari Nordmann: email me a code").click()
    expect(page.get_by_role("heading", name="Confirm your email address")).to_be_visible()
    expect(page.locator(".flash-success")).to_have_text("We sent a code to k***@fjordline.example.")
    with schema_context("t_live"):
        code = last_code("kari@fjordline.example")
    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name="Confirm").click()

    expect(page.get_by_role("heading", name="Sign as Kari Nordmann")).to_be_visible()
    expect(page.get_by_text("Total: €1,512.50.", exact=False)).to_be_visible()
    page.get_by_label("Your full name").fill("Kari Nordmann")
    expect(page.get_by_label("Use my typed name")).to_be_checked()
    page.get_by_label("I have read the quote and its terms", exact=False).check()
    _shots(page, "sign", screenshot)
    page.get_by_role("button", name="Sign the quote").click()

    pay = page.locator("#quote-pay")
    expect(pay).to_contain_text("Due now: €1,512.50.")
    expect(pay.get_by_role("button", name="Pay €1,512.50")).to_be_visible()
    _shots(page, "signed", screenshot)
    pay.get_by_role("button", name="Pay €1,512.50").click()

    expect(page.get_by_text("Test mode", exact=False).first).to_be_visible()
    card = page.locator("#method-card")
    if card.get_attribute("open") is None:
        card.locator("summary").click()
    card.get_by_label("Name on card").fill("Kari Nordmann")
    card.get_by_label("Card number").fill(CARD_SUCCESS)
    card.get_by_label("Expiry date (MM/YY)").fill("12/30")
    card.get_by_label("Security code (CVC)").fill("123")
    card.get_by_label("Email for the confirmation").fill("kari@fjordline.example")
    _shots(page, "checkout", screenshot)
    card.get_by_role("button", name="Pay €1,512.50").click()
    expect(page.get_by_role("heading", name="Payment successful")).to_be_visible()
    expect(page.get_by_text("Thank you! Live Handel B.V. received your payment of €1,512.50.")).to_be_visible()
    _shots(page, "paid", screenshot)

    # The quote's own link now says it is paid.
    page.goto(f"{base}{hosted_path}")
    expect(page.get_by_text("Agreed and paid. Thank you!")).to_be_visible()
    expect(page.get_by_role("heading", name="Paid. Thank you!")).to_be_visible()
    buyer.close()

    with schema_context("t_live"):
        quote = Quote.objects.get()
        assert quote.status == "paid"
        assert quote.paid_at is not None
        invoice = Invoice.objects.get(pk=quote.checkout_invoice_id)
        assert (invoice.number, invoice.status, invoice.total, invoice.currency) == (
            "INV-1001",
            "paid",
            Decimal("1512.50"),
            "EUR",
        )
        assert invoice.deal_id == deal_pk
        payment = Payment.objects.get(invoice_id=invoice.pk)
        assert (payment.status, payment.amount) == ("succeeded", Decimal("1512.50"))
        subscription = Subscription.objects.get()
        next_bill = today + relativedelta(months=1)
        assert (subscription.name, subscription.frequency, subscription.deal_id) == (
            "Fleet tracking for Bergen (monthly)",
            "monthly",
            deal_pk,
        )
        assert (subscription.start_date, subscription.next_billing_date) == (today, next_bill)
        # The signer's audit record: who, when, from where, with what, over which PDF.
        signer = QuoteSigner.objects.get(publication=publication)
        assert (signer.name, signer.email, signer.signature_kind, signer.signature_name) == (
            "Kari Nordmann",
            "kari@fjordline.example",
            "typed",
            "Kari Nordmann",
        )
        assert signer.ip_address == "127.0.0.1"
        assert "HeadlessChrome" in signer.user_agent
        assert started < signer.verified_at <= signer.signed_at < timezone.now() + timedelta(seconds=1)
        with default_storage.open(publication.pdf_path, "rb") as pdf:
            assert signer.pdf_sha256 == hashlib.sha256(pdf.read()).hexdigest() == publication.pdf_sha256

    # --- the rep sees it all on the deal ----------------------------------------------------------------------------
    page = rep.pages[0]
    page.goto(f"{base}/crm/deals/{deal_pk}/")
    quotes = page.locator("#quotes-panel")
    expect(quotes.locator("li")).to_have_count(1)
    expect(quotes.locator("li")).to_contain_text("Q-1001 Fleet tracking for Bergen Paid")
    expect(quotes.locator("li .num")).to_have_text("€1,512.50")
    invoices = page.locator("#invoices-panel")
    expect(invoices.locator("li")).to_have_count(1)
    row = invoices.locator("li")
    expect(row).to_contain_text("INV-1001 Paid")
    expect(row.locator(".num")).to_have_text("€1,512.50")  # paid in full: no amount due under it
    subscriptions = page.locator("#subscriptions-panel")
    expect(subscriptions.locator("li")).to_have_count(1)
    sub_row = subscriptions.locator("li")
    expect(sub_row).to_contain_text("Fleet tracking for Bergen (monthly)")
    expect(sub_row).to_contain_text("Active")
    # English pages write short dates month first.
    expect(sub_row).to_contain_text(f"Monthly · next bill {next_bill.day} {next_bill:%b %Y}")
    expect(sub_row.locator(".num")).to_have_text("€60.50per period, VAT included")  # 50.00 a month and 21% VAT
    _shots(page, "deal", screenshot)

    quotes.get_by_role("link", name="Q-1001").click()
    expect(page.locator("#quote-status")).to_have_text("Paid")
    checkout = page.locator("#quote-checkout-invoice")
    expect(checkout).to_contain_text("INV-1001 Paid")
    expect(checkout.locator(".num")).to_have_text("€1,512.50")
    audit = page.locator("#signatures tbody tr")
    expect(audit).to_contain_text("Typed “Kari Nordmann”")
    expect(audit).to_contain_text("IP address 127.0.0.1")
    expect(audit).to_contain_text(f"SHA-256 {signer.pdf_sha256[:19]}…")
    _shots(page, "quote-paid", screenshot)
    # On a phone the audit record is a card of label and value pairs, nothing cut off at its right edge.
    page.set_viewport_size({"width": PHONE, "height": 900})
    for cell in page.locator("#signatures td[data-label]").all():
        assert cell.evaluate("(td) => td.scrollWidth <= td.clientWidth"), cell.inner_text()
    rep.close()
