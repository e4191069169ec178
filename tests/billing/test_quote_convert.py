"""Converting a quote to an invoice: a draft with copies of the quote's buyer, lines, adjustments and terms, linked
to it by a foreign key, made once."""

from decimal import Decimal

import pytest

from billing.documents import invoice_summary
from billing.models import Invoice, LineItem, Quote, QuoteEvent, QuoteStatus
from billing.services.invoice_payments import invoice_void
from billing.services.invoices import invoice_finalize
from billing.services.quote_records import QuoteStateError
from billing.services.quotes import quote_convert_to_invoice
from commerce_hub.accounts.models import Role
from commerce_hub.events.models import OutboxEvent
from commerce_hub.idempotency.services import key_new
from commerce_hub.idempotency.web import FIELD
from tests.billing.quote_paying import line, quote_make
from tests.conftest import user_make

LINES = (line("Implementation", "2", "500.00"), line("Hosting", "1", "80.00", frequency="monthly"))
LOYALTY = (("discount", "Loyalty", "10", None),)


def _quote(**kwargs):
    quote, _publication = quote_make(lines=LINES, adjustments=LOYALTY, **kwargs)
    Quote.objects.filter(pk=quote.pk).update(comments="Delivery in week 3.", terms="Prices valid for 30 days.")
    quote.refresh_from_db()
    return quote


def test_converting_copies_buyer_lines_adjustments_and_terms_into_a_linked_draft(tenant_alpha, admin_user):
    quote = _quote(status=QuoteStatus.SIGNED)
    invoice = quote_convert_to_invoice(quote=quote, actor=admin_user)

    assert (invoice.status, invoice.source_quote_id, invoice.deal_id, invoice.company_id) == (
        "draft",
        quote.pk,
        quote.deal_id,
        quote.company_id,
    )
    assert list(invoice.contacts.values_list("email", flat=True)) == ["kari@fjordline.example"]
    assert (invoice.currency, invoice.language, invoice.payment_methods) == ("EUR", "en", ["card", "bank_transfer"])
    assert invoice.comments == "Delivery in week 3.\n\nPrices valid for 30 days."
    assert list(
        LineItem.objects.filter(invoice=invoice).values_list("name", "quantity", "unit_price", "frequency")
    ) == [
        ("Implementation", Decimal("2"), Decimal("500.00"), "one_time"),
        ("Hosting", Decimal("1"), Decimal("80.00"), "monthly"),
    ]
    # 1,080.00 less 10% = 972.00, plus 21% VAT = 1,176.12: the quote's total, from the same engine.
    assert invoice_summary(invoice).total == Decimal("1176.12")
    assert list(invoice.adjustments.values_list("kind", "label", "percent")) == [("discount", "Loyalty", Decimal("10"))]
    # The quote's own lines are untouched: the invoice has copies.
    assert LineItem.objects.filter(quote=quote).count() == 2
    assert QuoteEvent.objects.filter(quote=quote, kind="converted", data__invoice_id=invoice.pk).exists()
    assert OutboxEvent.objects.filter(name="quote.converted", payload__invoice_id=invoice.pk).count() == 1


def test_a_quote_is_converted_once_until_that_invoice_is_voided(tenant_alpha, admin_user):
    quote = _quote(status=QuoteStatus.ACCEPTED)
    first = quote_convert_to_invoice(quote=quote, actor=admin_user)
    with pytest.raises(QuoteStateError) as refused:
        quote_convert_to_invoice(quote=quote, actor=admin_user)
    assert refused.value.messages == [f"Quote Q-1001 was already converted to invoice draft {first.pk}."]

    invoice_finalize(invoice=first, actor=admin_user)
    first.refresh_from_db()
    with pytest.raises(QuoteStateError) as refused:
        quote_convert_to_invoice(quote=quote, actor=admin_user)
    assert refused.value.messages == [f"Quote Q-1001 was already converted to invoice {first.number}."]

    invoice_void(invoice=first, actor=admin_user, reason="Wrong buyer address")
    second = quote_convert_to_invoice(quote=quote, actor=admin_user)
    assert second.pk != first.pk and second.source_quote_id == quote.pk


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (QuoteStatus.DRAFT, "Quote Q-1001 cannot do that in its current state."),
        (QuoteStatus.PAID, "Quote Q-1001 was invoiced when it was paid."),
        (QuoteStatus.DECLINED, "Quote Q-1001 was declined."),
        (QuoteStatus.EXPIRED, "Quote Q-1001 has expired."),
    ],
)
def test_only_a_quote_the_buyer_could_agree_to_is_converted(tenant_alpha, admin_user, status, message):
    quote = _quote(status=status)
    with pytest.raises(QuoteStateError) as refused:
        quote_convert_to_invoice(quote=quote, actor=admin_user)
    assert refused.value.messages == [message]
    assert not Invoice.objects.filter(source_quote=quote).exists()


def test_the_convert_button_makes_one_invoice_on_a_double_click(tenant_alpha, admin_client):
    quote = _quote(status=QuoteStatus.SIGNED)
    page = admin_client.get(f"/billing/quotes/{quote.pk}/").content.decode()
    assert f'action="/billing/quotes/{quote.pk}/convert/"' in page and "Convert to invoice" in page

    key = {FIELD: key_new()}
    first = admin_client.post(f"/billing/quotes/{quote.pk}/convert/", key)
    again = admin_client.post(f"/billing/quotes/{quote.pk}/convert/", key)
    invoice = Invoice.objects.get(source_quote=quote)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"] == f"/billing/invoices/{invoice.pk}/"

    # A second, separate press is refused with the reason, shown on the quote's page.
    refused = admin_client.post(f"/billing/quotes/{quote.pk}/convert/", {FIELD: key_new()}, follow=True)
    assert f"Quote Q-1001 was already converted to invoice draft {invoice.pk}." in refused.content.decode()
    assert Invoice.objects.filter(source_quote=quote).count() == 1


def test_converting_needs_quote_and_invoice_rights_and_a_quote_of_this_tenant(client_alpha):
    quote = _quote(status=QuoteStatus.SIGNED)
    client_alpha.force_login(user_make(Role.READ_ONLY))
    assert client_alpha.post(f"/billing/quotes/{quote.pk}/convert/", {FIELD: key_new()}).status_code == 403

    # An id that is not a quote of this tenant (another tenant's quotes live in another schema) is not found.
    client_alpha.force_login(user_make(Role.ADMIN))
    assert client_alpha.post(f"/billing/quotes/{quote.pk + 1000}/convert/", {FIELD: key_new()}).status_code == 404
    assert client_alpha.post("/billing/quotes/99999999999999999999/convert/", {FIELD: key_new()}).status_code == 404
    assert not Invoice.objects.filter(source_quote__isnull=False).exists()
