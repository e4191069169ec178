"""The payments index and a payment's record page: rows with their figures, default views, filters, search, saved
views, CSV export, access, another tenant's ids, bad filters and a constant number of queries."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tenants.utils import schema_context

from commerce_hub.accounts.models import AuditEntry, Role
from commerce_hub.saved_views.models import SavedView
from crm.models import Contact, Deal, Pipeline
from payments.models import Dispute, MethodKind, Payment
from payments.processors.builtin import CARD_DECLINED, CARD_SUCCESS_MASTERCARD
from tests.billing.invoicing import buyer_make
from tests.conftest import user_make
from tests.payments.paying import SEPA, open_invoice, pay

URL = "/payments/"
EXPORT = "/payments/export/"


def rows(response) -> list[int]:
    assert response.status_code == 200
    return [row.pk for row in response.context["page"].rows]


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.fixture
def book(tenant_alpha):
    """Three payments, newest last: a card payment that succeeded (Fjordline, on a deal), a SEPA debit still
    processing (Nordlys), a declined Mastercard attempt ten days old (Amstel)."""
    fjordline, kari = buyer_make(name="Fjordline AS", email="kari@fjordline.example")
    pipeline = Pipeline.objects.get(is_default=True)
    deal = Deal.objects.create(
        name="Ferry scanners", pipeline=pipeline, stage=pipeline.stages.first(), company=fjordline
    )
    invoice = open_invoice(company=fjordline, contacts=[kari], deal=deal)
    card = pay(invoice)
    amstel, piet = buyer_make(name="Amstel BV", email="piet@amstel.example", country="NL")
    Contact.objects.filter(pk=piet.pk).update(first_name="Piet", last_name="de Vries")
    declined = pay(
        open_invoice(company=amstel, contacts=[piet]),
        data={"number": CARD_DECLINED, "exp_month": "1", "exp_year": "2031", "cvc": "1"},
    )
    Payment.objects.filter(pk=declined.pk).update(created_at=timezone.now() - timedelta(days=10))
    nordlys, ola = buyer_make(name="Nordlys AS", email="ola@nordlys.example")
    Contact.objects.filter(pk=ola.pk).update(first_name="Ola", last_name="Hansen")
    debit = pay(open_invoice(company=nordlys, contacts=[ola]), method=MethodKind.SEPA_DEBIT, data=SEPA)
    return {"card": card, "debit": debit, "declined": declined, "invoice": invoice, "deal": deal, "kari": kari}


def test_index_lists_payments_newest_first_with_their_figures(admin_client, book):
    response = admin_client.get(URL)
    assert rows(response) == [book["debit"].pk, book["card"].pk, book["declined"].pk]
    html = response.content.decode()
    card_row = html.split(f'href="/payments/{book["card"].pk}/"')[1].split("</tr>")[0]
    invoice = book["invoice"]
    for text in (
        "Fjordline AS",
        "Visa •••• 4242",
        '<span class="badge badge-ok">Succeeded</span>',
        "€242.00",
        "€3.64",
        "€238.36",
        f'href="/billing/invoices/{invoice.pk}/">{invoice.number}</a></span>',
        f'href="/crm/deals/{book["deal"].pk}/">Ferry scanners</a>',
        f'href="/crm/companies/{invoice.company_id}/"',
    ):
        assert text in card_row, text
    debit_row = html.split(f'href="/payments/{book["debit"].pk}/"')[1].split("</tr>")[0]
    assert "SEPA Direct Debit •••• 4300" in debit_row and ">Processing</span>" in debit_row
    assert debit_row.count("—") == 3  # no fee and no net until it settles, no deal
    declined_row = html.split(f'href="/payments/{book["declined"].pk}/"')[1].split("</tr>")[0]
    assert '<span class="badge badge-danger">Failed</span>' in declined_row


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("view=succeeded", ["card"]),
        ("view=in_progress", ["debit"]),
        ("view=failed", ["declined"]),
        ("view=refunded", []),
        ("status=succeeded&status=failed", ["card", "declined"]),
        ("method=sepa_debit", ["debit"]),
        ("method=card", ["card", "declined"]),
        ("currency=NOK", []),
        ("customer=nordlys", ["debit"]),
        ("customer=Kari Nordmann", ["card"]),
        ("customer=piet@amstel", ["declined"]),
        ("customer=Piet de Vries", ["declined"]),
        ("amount_min=242.00&amount_max=242.00", ["debit", "card", "declined"]),
        ("amount_min=242.01", []),
        ("sort=amount", ["card", "declined", "debit"]),
        ("sort=-date&view=all&method=card", ["card", "declined"]),
    ],
)
def test_views_and_filters_give_exact_rows(admin_client, book, query, expected):
    if query == "sort=amount":  # equal amounts: the id breaks the tie, in creation order
        expected = sorted(expected, key=lambda key: book[key].pk)
    assert rows(admin_client.get(f"{URL}?{query}")) == [book[key].pk for key in expected]


def test_date_range_takes_whole_days_and_search_finds_the_invoice(admin_client, book):
    today = timezone.localdate()
    ten_days_ago = (today - timedelta(days=10)).isoformat()
    assert rows(admin_client.get(f"{URL}?date_before={ten_days_ago}")) == [book["declined"].pk]
    assert rows(admin_client.get(f"{URL}?date_after={today.isoformat()}")) == [book["debit"].pk, book["card"].pk]
    assert rows(admin_client.get(f"{URL}?date_after={ten_days_ago}&date_before={ten_days_ago}")) == [
        book["declined"].pk
    ]
    assert rows(admin_client.get(f"{URL}?q={book['invoice'].number}")) == [book["card"].pk]
    assert rows(admin_client.get(f"{URL}?q={book['card'].public_id}")) == [book["card"].pk]
    scoped = admin_client.get(f"{URL}?contact_id={book['kari'].pk}")
    assert rows(scoped) == [book["card"].pk]
    assert "Contact: <strong>Kari Nordmann</strong>" in scoped.content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_after=2024-13-45", "Enter a valid date."),
        ("amount_min=1e9999", "Ensure that there are no more than 20 digits in total."),
        ("amount_min=abc", "Enter a number."),
        ("status=paid", "Select a valid choice. paid is not one of the available choices."),
        ("contact_id=99999999999999999999", "Ensure this value is less than or equal to 9223372036854775807."),
    ],
)
def test_bad_filters_show_why_and_no_rows(admin_client, book, query, message):
    response = admin_client.get(f"{URL}?{query}")
    assert rows(response) == []
    html = response.content.decode()
    assert "Some filters cannot be applied, so nothing is shown:" in html
    assert message in html


def test_an_empty_index_says_so_and_each_view_has_its_empty_state(admin_client, tenant_alpha):
    html = admin_client.get(URL).content.decode()
    assert "No payments yet" in html and "Payments buyers make on invoices appear here." in html
    assert "No refunds yet" in admin_client.get(f"{URL}?view=refunded").content.decode()
    assert "Nothing matches this view" in admin_client.get(f"{URL}?method=card").content.decode()


def test_search_box_gets_the_results_only(admin_client, book):
    response = admin_client.get(f"{URL}?q=Nordlys", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.startswith('<div id="results">') and "<nav" not in html.split('<nav class="pager"')[0]
    assert rows(response) == [book["debit"].pk]


def test_saved_view_keeps_its_filters_and_its_default_view(client_alpha, book):
    finance = user_make(Role.FINANCE)
    client_alpha.force_login(finance)
    page = client_alpha.get(f"{URL}?view=succeeded&method=card")
    assert page.context["index"].save_query == "method=card&base=succeeded"
    response = client_alpha.post(
        reverse("payments:payment_view_save"), {"name": "Cards paid", "query": "method=card&base=succeeded&after=x"}
    )
    view = SavedView.objects.get(name="Cards paid")
    assert (view.index, view.owner, view.query) == ("payments.payment", finance, "method=card&base=succeeded")
    assert response["Location"] == f"{URL}?view={view.pk}"
    assert rows(client_alpha.get(f"{URL}?view={view.pk}")) == [book["card"].pk]
    assert [v.name for v in client_alpha.get(URL).context["saved_views"]] == ["Cards paid"]

    other = Client(HTTP_HOST="alpha.localhost")
    other.force_login(user_make(Role.FINANCE))
    foreign = other.get(f"{URL}?view={view.pk}")
    assert len(rows(foreign)) == 3
    assert "That saved view does not exist (any more); showing all payments." in foreign.content.decode()
    assert other.post(reverse("payments:payment_view_delete", args=[view.pk])).status_code == 404

    assert (
        "Delete the view “Cards paid”?"
        in client_alpha.get(reverse("payments:payment_view_delete", args=[view.pk])).content.decode()
    )
    client_alpha.post(reverse("payments:payment_view_delete", args=[view.pk]))
    assert not SavedView.objects.filter(pk=view.pk).exists()


def test_export_writes_the_rows_of_the_view(admin_client, book, admin_user):
    table = _csv(admin_client.get(f"{EXPORT}?method=card"))
    assert table[0] == [
        "Date",
        "Payment ID",
        "Status",
        "Customer",
        "Buyer email",
        "Method",
        "Currency",
        "Amount",
        "Fee",
        "Net",
        "Refunded",
        "Invoice",
        "Deal",
        "Processor",
        "Processor reference",
    ]
    card = book["card"]
    assert table[1][1:] == [
        card.public_id,
        "Succeeded",
        "Fjordline AS",
        "kari@fjordline.example",
        "Visa •••• 4242",
        "EUR",
        "242.00",
        "3.64",
        "238.36",
        "0.00",
        book["invoice"].number,
        "Ferry scanners",
        "Built-in (test mode)",
        card.processor_reference,
    ]
    assert table[2][1:12] == [
        book["declined"].public_id,
        "Failed",
        "Amstel BV",
        "kari@fjordline.example",  # the address the checkout was paid from
        "Card",  # a declined attempt keeps no card details
        "EUR",
        "242.00",
        "",
        "",
        "0.00",
        book["declined"].invoice.number,
    ]
    assert len(table) == 3
    entry = AuditEntry.objects.get(action="payment.exported")
    assert entry.actor == admin_user and entry.after["query"] == "method=card"


def test_who_sees_and_exports_payments(client_alpha, book):
    client_alpha.force_login(user_make(Role.READ_ONLY))
    assert client_alpha.get(URL).status_code == 200
    assert "Export CSV" not in client_alpha.get(URL).content.decode()
    assert client_alpha.get(EXPORT).status_code == 403
    client_alpha.force_login(user_make(Role.SALES))
    assert "Export CSV" in client_alpha.get(URL).content.decode()
    assert client_alpha.get(EXPORT).status_code == 200
    client_alpha.logout()
    assert client_alpha.get(URL)["Location"].startswith("/login/")


def test_record_page_shows_the_figures_links_and_history(admin_client, book):
    card, invoice = book["card"], book["invoice"]
    response = admin_client.get(f"/payments/{card.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    figures = html.split('id="payment-figures"')[1].split('class="invoice-layout"')[0]
    for label, value in (
        ("Amount", "€242.00"),
        ("Fee", "€3.64"),
        ("Net", "€238.36"),
        ("Refunded", "€0.00"),
        ("Refundable", "€242.00"),
    ):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in figures
    for text in (
        "Payment of €242.00",
        "Visa •••• 4242",
        "Built-in (test mode)",
        card.public_id,
        card.processor_reference,
        f'href="/billing/invoices/{invoice.pk}/">{invoice.number}</a> <span class="muted small">total €242.00, '
        "due €0.00",
        f'href="/crm/deals/{book["deal"].pk}/">Ferry scanners</a>',
        f'href="/crm/contacts/{book["kari"].pk}/">Kari Nordmann</a>',
        "Payment of €242.00 started",
        "Payment succeeded",
        "No refunds.",
        "Review refund",
    ):
        assert text in html, text
    assert "<dt>Subscription</dt>" not in html  # none yet: the row is left out


def test_record_page_of_a_processing_debit_and_a_failed_card(admin_client, book):
    html = admin_client.get(f"/payments/{book['debit'].pk}/").content.decode()
    assert "Processing: a bank debit settles after a few days" in html
    assert "Review refund" not in html and "Refundable" not in html
    html = admin_client.get(f"/payments/{book['declined'].pk}/").content.decode()
    assert "Payment failed: The card was declined." in html
    assert "Review refund" not in html


def test_disputes_are_listed_on_the_record_page(admin_client, book):
    Dispute.objects.create(
        payment=book["card"], processor_reference="dp_test_1", amount=Decimal("242.00"), currency="EUR"
    )
    html = admin_client.get(f"/payments/{book['card'].pk}/").content.decode()
    disputes = html.split('id="disputes"')[1]
    assert "Disputes" in html and "Needs response" in disputes and "€242.00" in disputes
    assert '<span class="badge badge-danger">Disputed</span>' in html


def test_another_tenants_payment_and_unknown_ids_are_not_found(admin_client, tenant_alpha):
    with schema_context("t_bravo"):
        fjord, kari = buyer_make(name="Bravo Kunde AS")
        foreign = pay(open_invoice(company=fjord, contacts=[kari]))
        assert Payment.objects.filter(pk=foreign.pk).exists()
    connection.set_tenant(tenant_alpha)
    assert not Payment.objects.filter(pk=foreign.pk).exists()
    for path in (f"/payments/{foreign.pk}/", f"/payments/{foreign.pk}/refund/", f"/payments/{foreign.pk}/receipt.pdf"):
        assert admin_client.get(path).status_code == 404, path
    assert admin_client.get("/payments/abc/").status_code == 404
    assert admin_client.get("/payments/99999999999999999999/").status_code == 404


def test_index_and_record_page_queries_do_not_grow_with_the_rows(admin_client, book):
    admin_client.get(URL)  # what the first request of a session reads once and caches is not what is measured
    with CaptureQueriesContext(connection) as three:
        admin_client.get(URL)
    for n in range(4):
        company, contact = buyer_make(name="More AS", email=f"more-{n}@example.com")
        pay(open_invoice(company=company, contacts=[contact]), data={"number": CARD_SUCCESS_MASTERCARD, "cvc": "1"})
    admin_client.get(URL)  # paying changed cached reads (the profile); again, only the page itself is measured
    with CaptureQueriesContext(connection) as seven:
        response = admin_client.get(URL)
    assert len(rows(response)) == 7
    assert len(seven.captured_queries) == len(three.captured_queries)
