"""The checkout page's cost: a fixed set of reads however long the invoice, and the parts it reuses (the invoice's
rendered document per language and snapshot, blank form fields per language) never showing one buyer another's
values."""

import re

from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from billing.hosted import hosted_document_html
from billing.selectors.invoices import document_for_display
from payments.forms.checkout import CardForm
from tests.payments.checkout_helpers import buyer, checkout_url, mandate_reference, post
from tests.payments.paying import open_invoice

TWENTY_LINES = tuple((f"Line {n}", "1", f"{n}.00", "BTW 21%") for n in range(1, 21))


def _main_table(sql: str) -> str:
    while re.search(r"\([^()]*\)", sql):  # subqueries and function calls out, down to the statement's own FROM
        sql = re.sub(r"\([^()]*\)", "", sql)
    return re.search(r'\bFROM "(\w+)"', sql).group(1)


def _tables(client, url) -> list[str]:
    """The table each statement of the request reads, in order, without django-tenants' search_path switches."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [_main_table(q["sql"]) for q in queries.captured_queries if not q["sql"].startswith("SET search_path")]


# The tenant's domain, the invoice behind the token, the sum of its ledger bucket, a payment in flight, and the
# tenant's processor. The seller, the lines and the totals come from the invoice's snapshot.
PAGE_READS = [
    "tenancy_domain",
    "billing_invoice",
    "billing_receivableentry",
    "payments_payment",
    "payments_paymentsettings",
]


def test_the_checkout_page_runs_the_same_five_reads_for_one_line_or_twenty(tenant_alpha):
    one = open_invoice()
    twenty = open_invoice(lines=TWENTY_LINES)
    client = buyer()
    client.get(checkout_url(one))  # the organisation profile into the cache, as any earlier page of the site does
    # The first view of an invoice (its document not rendered yet) and every later one.
    assert _tables(client, checkout_url(twenty)) == PAGE_READS
    assert _tables(client, checkout_url(twenty)) == PAGE_READS
    assert _tables(client, checkout_url(one)) == PAGE_READS
    page = client.get(checkout_url(twenty)).content.decode()
    assert page.count('<td class="num" data-label="Quantity">1</td>') == 20 and "Line 20" in page
    assert "Pay €254.10" in page  # 210.00 + 21% VAT


def test_each_view_of_the_page_carries_keys_of_its_own(tenant_alpha):
    invoice = open_invoice()
    client = buyer()
    first, second = (client.get(checkout_url(invoice)).content.decode() for _ in range(2))
    keys = [re.findall(r'name="idempotency_key" value="([^"]+)"', page) for page in (first, second)]
    assert len(keys[0]) == len(set(keys[0])) == 4  # card, Vipps MobilePay, SEPA Direct Debit, iDEAL
    assert not set(keys[0]) & set(keys[1])
    assert mandate_reference(first) != mandate_reference(second)
    assert f"<code>{mandate_reference(second)}</code>" in second


def test_a_field_sent_back_shows_the_buyers_input_and_error_and_the_next_view_is_blank(tenant_alpha):
    invoice = open_invoice()
    client = buyer()
    client.get(checkout_url(invoice))
    page = post(client, invoice, "vipps_mobilepay", {"phone": "+1 555 0100"}).content.decode()
    assert 'value="+1 555 0100"' in page and "works with Norwegian, Danish and Finnish mobile numbers" in page
    again = client.get(checkout_url(invoice)).content.decode()
    assert "+1 555 0100" not in again and "works with Norwegian, Danish and Finnish" not in again
    (phone,) = re.findall(r'<input[^>]* id="id_vipps_mobilepay_phone"[^>]*>', again)
    assert "value=" not in phone


def test_a_field_renders_with_its_errors_even_when_a_blank_or_valid_one_was_rendered_before(tenant_alpha):
    template = Template("{% load checkout %}{% checkout_field form.name %}")
    assert 'id="id_card_name"' in template.render(Context({"form": CardForm()}))
    valid = CardForm({"name": "Kari Nordmann"})
    valid.is_valid()
    assert "field-error" not in template.render(Context({"form": valid}))
    refused = CardForm({"name": "Kari Nordmann"})
    refused.is_valid()
    refused.add_error("name", "Use the name printed on the card.")
    shown = template.render(Context({"form": refused}))
    assert "has-error" in shown and "Use the name printed on the card." in shown and 'value="Kari Nordmann"' in shown


def test_the_rendered_document_follows_the_language_and_the_snapshot(tenant_alpha):
    invoice = open_invoice()
    document = document_for_display(invoice.snapshot)
    with translation.override("en"):
        english = hosted_document_html(invoice, document)
    with translation.override("nl"):
        dutch = hosted_document_html(invoice, document)
    assert "Subtotal" in english and "Subtotaal" in dutch
    with translation.override("en"):
        assert hosted_document_html(invoice, document) == english
        # Another snapshot under the same primary key (a database recreated under the same cache) is rendered anew.
        invoice.snapshot = {**invoice.snapshot, "lines": [{**invoice.snapshot["lines"][0], "name": "Renamed"}]}
        renamed = hosted_document_html(invoice, document_for_display(invoice.snapshot))
    assert "Renamed" in renamed and "Consulting" not in renamed
