"""The seller's payment link pages: the builder (settings with inline errors, lines from the shared editor), the
record page (the shareable URL on the tenant's domain, an escaped embed button, QR codes, purchases and totals),
turning a link off and on after a confirmation, and the index with each link's purchases and revenue read in a
fixed number of queries."""

import re
from decimal import Decimal

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from billing import events
from billing.models import LineItem, PaymentLink, PaymentLinkPurchase, Product, ProductPrice
from billing.services.invoice_payments import invoice_record_payment
from billing.services.payment_link_checkout import (
    BuyerDetails,
    payment_link_purchase_complete,
    payment_link_purchase_start,
)
from commerce_hub.accounts.models import Role
from commerce_hub.events.models import OutboxEvent
from commerce_hub.site_urls import tenant_url
from tests.billing.payment_link_data import HOSTING, SETUP, link_make
from tests.conftest import user_make

NEW = "/billing/payment-links/new/"
INDEX = "/billing/payment-links/"

FORM = {
    "name": "Alpha Cloud",
    "currency": "EUR",
    "language": "en",
    "payment_methods": ["card"],
    "min_quantity": "1",
    "max_quantity": "99",
    "after_payment": "message",
    "thank_you_message": "Thanks!",
}


def _buy(link, email, *, quantity=1, paid=True):
    purchase = payment_link_purchase_start(
        link=link, buyer=BuyerDetails(email=email, name="Buyer Person", quantity=quantity)
    )
    if paid:
        invoice = purchase.invoice
        invoice_record_payment(
            invoice=invoice, amount=invoice.total, paid_on=invoice.issue_date, method="bank_transfer", actor=None
        )
        payment_link_purchase_complete(purchase=purchase)
    return purchase


# --- the builder ------------------------------------------------------------------------------------------------------


def test_creating_a_link_leads_to_its_line_items(admin_client):
    response = admin_client.post(NEW, FORM)
    link = PaymentLink.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/billing/payment-links/{link.pk}/edit/#lines"
    assert (link.name, link.currency, link.active, link.payment_methods) == ("Alpha Cloud", "EUR", True, ["card"])
    assert len(link.public_token) == 43  # 256 random bits, URL-safe base64
    assert OutboxEvent.objects.filter(name=events.PAYMENT_LINK_CREATED.name, payload__id=link.pk).count() == 1
    page = admin_client.get(f"/billing/payment-links/{link.pk}/edit/").content.decode()
    assert 'id="line-editor"' in page and f"/billing/payment-links/{link.pk}/line-items/library/" in page
    assert "Add a one-time discount, fee or tax" not in page  # links take no one-time adjustments


def test_the_builder_refuses_bad_settings_next_to_their_fields(admin_client):
    bad = {
        **FORM,
        "name": "",
        "payment_methods": [],
        "adjustable_quantity": "on",
        "min_quantity": "5",
        "max_quantity": "2",
        "after_payment": "redirect",
        "redirect_url": "http://example.com/thanks",
        "trial_days": "0",
    }
    response = admin_client.post(NEW, bad)
    page = response.content.decode()
    assert response.status_code == 422
    assert "Please correct the fields marked below." in page
    assert not PaymentLink.objects.exists()
    for message in ("This field is required.", "Ensure this value is greater than or equal to 1."):
        assert message in page
    response = admin_client.post(NEW, {**bad, "name": "X", "payment_methods": ["card"], "trial_days": ""})
    page = response.content.decode()
    assert "The maximum cannot be below the minimum." in page
    assert "Enter a full https:// address, such as https://example.com/thanks." in page
    for url in ("javascript:alert(1)", "https://user:pw@example.com/", "ftp://example.com", "https://"):
        response = admin_client.post(NEW, {**FORM, "after_payment": "redirect", "redirect_url": url})
        assert response.status_code == 422, url
    assert not PaymentLink.objects.exists()
    response = admin_client.post(NEW, {**FORM, "after_payment": "redirect", "redirect_url": "https://alpha.example/ok"})
    assert response.status_code == 302
    assert PaymentLink.objects.get().redirect_url == "https://alpha.example/ok"


def test_the_editor_adds_library_products_in_the_links_currency(admin_client):
    link = link_make(lines=())
    product = Product.objects.create(name="Hosting", billing_frequency="monthly")
    ProductPrice.objects.create(product=product, currency="EUR", unit_price=Decimal("50.00"))
    response = admin_client.post(
        f"/billing/payment-links/{link.pk}/line-items/library/", {"product": [product.pk]}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    (line,) = LineItem.objects.filter(payment_link=link)
    assert (line.name, line.unit_price, line.currency, line.frequency) == (
        "Hosting",
        Decimal("50.00"),
        "EUR",
        "monthly",
    )


def test_the_currency_cannot_change_once_the_link_has_lines(admin_client):
    link = link_make()
    response = admin_client.post(f"/billing/payment-links/{link.pk}/edit/", {**FORM, "currency": "NOK"})
    assert response.status_code == 422
    assert "Remove the line items first: they are priced in EUR." in response.content.decode()


def test_saving_settings_emits_an_update_with_the_changed_fields(admin_client):
    link = link_make()
    response = admin_client.post(f"/billing/payment-links/{link.pk}/edit/", {**FORM, "name": "Alpha Cloud Pro"})
    assert response.status_code == 302
    (event,) = OutboxEvent.objects.filter(name=events.PAYMENT_LINK_UPDATED.name)
    assert event.payload == {"id": link.pk, "fields": ["name", "thank_you_message"]}


# --- the record page --------------------------------------------------------------------------------------------------


def test_the_record_page_shares_the_url_on_the_tenants_domain_with_an_escaped_button(admin_client):
    link = link_make(name='Cloud <script>alert("x")</script>')
    page = admin_client.get(f"/billing/payment-links/{link.pk}/").content.decode()
    url = tenant_url("alpha.localhost", f"/billing/l/{link.public_token}/")
    assert f'value="{url}"' in page
    embed = re.search(r'<textarea id="link-embed"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    assert embed.startswith(f"&lt;a href=&quot;{url}&quot; target=&quot;_blank&quot;")
    assert "&amp;lt;script&amp;gt;" in embed  # escaped in the snippet, and again in the page
    assert "<script>alert" not in page
    assert 'src="data:image/png;base64,' in page


def test_the_qr_code_downloads_as_png_and_svg(admin_client):
    link = link_make()
    png = admin_client.get(f"/billing/payment-links/{link.pk}/qr.png")
    svg = admin_client.get(f"/billing/payment-links/{link.pk}/qr.svg")
    assert (png.status_code, png["Content-Type"]) == (200, "image/png")
    assert png.content.startswith(b"\x89PNG")
    assert png["Content-Disposition"] == 'attachment; filename="payment-link-alpha-cloud.png"'
    assert (svg.status_code, svg["Content-Type"]) == (200, "image/svg+xml")
    assert svg.content.lstrip().startswith(b"<svg")
    assert admin_client.get(f"/billing/payment-links/{link.pk}/qr.gif").status_code == 404


def test_the_record_page_lists_purchases_and_totals(admin_client):
    link = link_make()
    _buy(link, "a@one.example", quantity=1)
    _buy(link, "b@two.example", quantity=1)
    open_purchase = _buy(link, "c@three.example", paid=False)
    page = admin_client.get(f"/billing/payment-links/{link.pk}/").content.decode()
    assert '<dd id="paid-count">2</dd>' in page
    assert '<dd id="revenue">€363.00</dd>' in page  # 2 x 181.50
    assert "Waiting for payment" in page and open_purchase.invoice.number in page
    assert page.count('class="badge badge-ok">Paid<') == 2


def test_deactivating_needs_a_confirmation_and_can_be_undone(admin_client):
    link = link_make()
    url = f"/billing/payment-links/{link.pk}/active/"
    page = admin_client.get(url).content.decode()
    assert "Deactivate “Alpha Cloud”?" in page
    link.refresh_from_db()
    assert link.active
    response = admin_client.post(url, {"active": "0"})
    assert response.status_code == 302
    link.refresh_from_db()
    assert not link.active
    admin_client.post(url, {"active": "0"})  # the same page sent twice changes nothing more
    assert OutboxEvent.objects.filter(name=events.PAYMENT_LINK_DEACTIVATED.name).count() == 1
    admin_client.post(url, {"active": "1"})
    link.refresh_from_db()
    assert link.active


def test_readers_see_links_but_only_finance_and_admins_change_them(tenant_alpha):
    link = link_make()
    reader = Client(HTTP_HOST="alpha.localhost")
    reader.force_login(user_make(Role.READ_ONLY))
    assert reader.get(INDEX).status_code == 200
    assert reader.get(f"/billing/payment-links/{link.pk}/").status_code == 200
    assert reader.get(NEW).status_code == 403
    assert reader.post(f"/billing/payment-links/{link.pk}/active/", {"active": "0"}).status_code == 403
    assert reader.get(f"/billing/payment-links/{link.pk}/edit/").status_code == 403
    finance = Client(HTTP_HOST="alpha.localhost")
    finance.force_login(user_make(Role.FINANCE))
    assert finance.get(f"/billing/payment-links/{link.pk}/edit/").status_code == 200


def test_another_tenants_link_is_not_found(tenant_alpha, tenant_bravo):
    link = link_make()
    connection.set_tenant(tenant_bravo)
    bravo = Client(HTTP_HOST="bravo.localhost")
    bravo.force_login(user_make(Role.ADMIN))
    for suffix in ("", "edit/", "active/", "qr.png", "line-items/"):
        assert bravo.get(f"/billing/payment-links/{link.pk}/{suffix}").status_code == 404, suffix


# --- the index --------------------------------------------------------------------------------------------------------


def test_the_index_shows_each_links_purchases_and_revenue(admin_client):
    cloud = link_make(adjustable_quantity=True, max_quantity=10)
    training = link_make(name="Training", lines=(("Training day", "1", "1200.00", "BTW 21%", "one_time"),))
    _buy(cloud, "a@one.example", quantity=2)  # 363.00
    _buy(cloud, "b@two.example", quantity=1)  # 181.50
    _buy(cloud, "c@three.example", paid=False)
    _buy(training, "d@four.example")  # 1,452.00
    page = admin_client.get(INDEX).content.decode()
    rows = re.findall(r"<tr>\s*<td class=\"line-name\">.*?</tr>", page, re.S)
    assert len(rows) == 2
    training_row, cloud_row = rows
    assert ">Training<" in training_row and ">1<" in training_row and "€1,452.00" in training_row
    assert "€1,200.00 once" in training_row
    assert ">Alpha Cloud<" in cloud_row and ">2<" in cloud_row and "€544.50" in cloud_row
    assert "€100.00 once" in cloud_row and "€50.00 a month" in cloud_row
    assert "3 purchases, €1,996.50" in page  # every link's paid purchases, per currency


def test_the_index_reads_a_page_in_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    for n in range(2):
        _buy(link_make(name=f"Link {n}"), f"buyer{n}@example.com")
    admin_client.get(INDEX)  # warm the session and per-tenant caches
    with CaptureQueriesContext(connection) as few:
        admin_client.get(INDEX)
    count = len(few.captured_queries)  # read now: the connection's query log is a bounded deque
    for n in range(2, 8):
        _buy(link_make(name=f"Link {n}", lines=(SETUP, HOSTING)), f"buyer{n}@example.com")
    admin_client.get(INDEX)  # link_make resets the cached company profile
    with django_assert_max_num_queries(count):
        response = admin_client.get(INDEX)
    assert len(response.context["rows"]) == 8


def test_an_empty_index_invites_a_new_link(admin_client):
    page = admin_client.get(INDEX).content.decode()
    assert "No payment links yet" in page and f'href="{NEW}"' in page


def test_the_index_pages_with_a_cursor(admin_client):
    for n in range(52):
        PaymentLink.objects.create(public_token=f"token-{n:040d}", name=f"Link {n:02d}", currency="EUR")
    first = admin_client.get(INDEX)
    assert len(first.context["rows"]) == 50
    cursor = first.context["page"].next_cursor
    second = admin_client.get(INDEX, {"after": cursor})
    assert [row.link.name for row in second.context["rows"]] == ["Link 01", "Link 00"]
    assert PaymentLinkPurchase.objects.count() == 0
