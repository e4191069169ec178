"""Quote PDFs: what they print in each of the three layouts, the same lines and totals as an invoice's PDF, the
template's texts and theme (built-in texts in the quote's language, a custom template's own, the quote's own terms
first), the logo frozen at publishing, recurring lines with their billing start, the payment schedule, the draft
preview, and user text that never makes the renderer fetch anything."""

import io
import re
from datetime import date, timedelta
from decimal import Decimal

import pypdf
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from billing import pdf
from billing.models import LineItem, QuoteInstallment, QuoteTemplate
from billing.models.choices import BillingStart
from billing.quote_documents import quote_document
from billing.quote_pdf import publication_pdf_bytes, quote_document_html, quote_document_pdf, quote_draft_pdf_bytes
from billing.services.quote_publishing import quote_publish
from commerce_hub.accounts.models import Role
from tests.billing.invoicing import draft_make, seller_ready
from tests.billing.quote_publishing_data import media, published, quote_make  # noqa: F401 - media is a fixture
from tests.conftest import user_make

pytestmark = pytest.mark.usefixtures("media")


@pytest.fixture
def rep(tenant_alpha):
    return user_make(Role.SALES, full_name="Sam Sales", email="sam@alpha.example")


def text_of(data: bytes) -> str:
    # Whitespace collapsed: where the extraction breaks lines depends on the layout, not on what is printed.
    return " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def png(color="#0f766e") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("layout", ["classic", "modern", "compact"])
def test_each_layout_prints_the_quote(rep, layout):
    template = QuoteTemplate.objects.get(builtin_key=layout)
    _quote, publication = published(actor=rep, template=template)
    html = quote_document_html(publication.snapshot)
    assert f'<body class="layout-{layout}">' in html
    assert ('class="q-band"' in html) == (layout == "modern")
    text = text_of(publication_pdf_bytes(publication))
    for expected in (
        "Q-1001",
        "Fleet tracking rollout",
        "PREPARED FOR Fjordline AS",  # the label is set in capitals
        "Attn. Kari Nordmann",
        "Valid until",
        "Prepared by Sam Sales",
        "Implementation",
        "€1,000.00",
        "BTW 21%",
        "€210.00",
        "€1,210.00",
        "Signatures",
        "Kari Nordmann",
    ):
        assert expected in text, expected


def test_the_quote_prints_its_lines_and_totals_exactly_as_an_invoice_does(rep):
    seller_ready()
    lines = (("Implementation", "1", "1000.00", "BTW 21%"), ("Training", "3", "150.00", "BTW 9%"))
    invoice_html = pdf.document_html(pdf_invoice_document(draft_make(lines=lines)), proforma=True)
    quote = quote_make(owner=rep, lines=[(*line, "one_time") for line in lines])
    quote_html = quote_document_html(quote_document(quote, issue_date=timezone.localdate()), draft=True)

    def lines_and_totals(html: str) -> str:
        return html[html.index('<table class="lines">') : html.index("</table>", html.index('<table class="totals">'))]

    assert lines_and_totals(quote_html) == lines_and_totals(invoice_html)
    assert "€1,700.50" in lines_and_totals(quote_html)  # 1,000 + 21% and 450 + 9%


def pdf_invoice_document(invoice):
    from billing.documents import invoice_document

    return invoice_document(invoice, issue_date=timezone.localdate())


def test_a_dutch_quote_prints_dutch_money_and_dates(rep):
    _quote, publication = published(actor=rep, language="nl")
    text = text_of(publication_pdf_bytes(publication))
    assert "€ 1.210,00" in text and '<html lang="nl">' in quote_document_html(publication.snapshot)


def test_built_in_templates_print_their_standard_texts_and_a_custom_one_its_own(rep):
    _quote, classic = published(actor=rep, template=QuoteTemplate.objects.get(builtin_key="classic"))
    text = text_of(publication_pdf_bytes(classic))
    assert "Thank you for your interest" in text and "Our general terms and conditions apply" in text
    custom = QuoteTemplate.objects.create(
        name="Partner",
        layout="modern",
        accent_color="#7c3aed",
        header_text="Hei! Here is our partner offer.",
        footer_text="Partner programme 2027",
        terms="Partner terms: net 30.",
    )
    _quote, own = published(actor=rep, template=custom)
    text = text_of(publication_pdf_bytes(own))
    assert "Hei! Here is our partner offer." in text and "Partner programme 2027" in text
    assert "Partner terms: net 30." in text and "Thank you for your interest" not in text
    assert "--accent:#7c3aed" in quote_document_html(own.snapshot)
    _quote, terms_first = published(actor=rep, template=custom, terms="Special terms for this deal.")
    text = text_of(publication_pdf_bytes(terms_first))
    assert "Special terms for this deal." in text and "Partner terms: net 30." not in text


def test_the_published_quote_keeps_the_logo_it_was_published_with(rep):
    template = QuoteTemplate.objects.get(builtin_key="classic")
    template.logo.save("logo.png", ContentFile(png("#0f766e")))
    quote = quote_make(owner=rep, template=template)
    publication = quote_publish(quote=quote, actor=rep)
    frozen = publication.snapshot["logo_path"]
    assert re.fullmatch(r"quote-logos/frozen/[0-9a-f]{64}\.png", frozen)
    template.logo.save("other.png", ContentFile(png("#dc2626")))
    assert default_storage.open(frozen, "rb").read() == png("#0f766e")
    assert 'src="data:image/png;base64,' in quote_document_html(publication.snapshot)


def test_recurring_lines_print_how_often_and_from_when_they_bill(rep):
    quote = quote_make(
        owner=rep,
        lines=(
            ("Setup", "1", "500.00", "BTW 21%", "one_time"),
            ("Hosting", "1", "99.00", "BTW 21%", "monthly"),
            ("Support", "1", "1200.00", "BTW 21%", "annual"),
            ("Licences", "10", "5.00", "BTW 21%", "monthly"),
        ),
    )
    LineItem.objects.filter(quote=quote, name="Support").update(
        billing_start=BillingStart.DATE, billing_start_date=date(2027, 3, 1)
    )
    LineItem.objects.filter(quote=quote, name="Licences").update(
        billing_start=BillingStart.DELAY_DAYS, billing_start_delay=30
    )
    publication = quote_publish(quote=quote, actor=rep)
    assert [row["billing_start"] for row in publication.snapshot["recurring"]] == [
        {"kind": "checkout"},
        {"kind": "date", "date": "2027-03-01"},
        {"kind": "delay_days", "delay": 30},
    ]
    text = text_of(publication_pdf_bytes(publication))
    assert "Recurring charges" in text
    assert "Monthly" in text and "Annually" in text
    assert "Billing starts at checkout" in text
    assert "Billing starts on 1 March 2027" in text
    assert "Billing starts 30 days after checkout" in text


def test_the_payment_schedule_prints_amounts_that_add_up_to_the_total(rep):
    quote = quote_make(owner=rep)
    QuoteInstallment.objects.create(quote=quote, position=0, name="Deposit", percent=Decimal("30"))
    QuoteInstallment.objects.create(
        quote=quote, position=1, name="On delivery", percent=Decimal("70"), due_date=date(2027, 2, 15)
    )
    publication = quote_publish(quote=quote, actor=rep)
    assert [(r["name"], r["amount"], r["due_date"]) for r in publication.snapshot["installments"]] == [
        ("Deposit", "363.00", None),
        ("On delivery", "847.00", "2027-02-15"),
    ]
    text = text_of(publication_pdf_bytes(publication))
    assert "Payment schedule" in text and "Deposit" in text and "€363.00" in text and "€847.00" in text
    assert "At checkout" in text and "15 February 2027" in text


def test_a_schedule_that_no_longer_adds_up_is_not_published(rep):
    quote = quote_make(owner=rep)
    QuoteInstallment.objects.create(quote=quote, position=0, name="Deposit", amount=Decimal("500"))
    QuoteInstallment.objects.create(quote=quote, position=1, name="Rest", amount=Decimal("500"))
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        quote_publish(quote=quote, actor=rep)
    assert refused.value.messages == ["The installments add up to €1,000.00, but the total is €1,210.00."]


def test_a_draft_preview_is_marked_and_has_no_number(rep):
    quote = quote_make(owner=rep)
    text = text_of(quote_draft_pdf_bytes(quote))
    assert "DRAFT: NOT AN OFFER UNTIL IT IS PUBLISHED" in text and "Q-1001" not in text
    assert quote.number is None


def test_user_text_cannot_make_the_renderer_fetch_urls(rep, monkeypatch):
    fetched = []
    real_fetch = pdf._OfflineFetcher.fetch
    monkeypatch.setattr(
        pdf._OfflineFetcher, "fetch", lambda self, url, headers=None: fetched.append(url) or real_fetch(self, url)
    )
    quote = quote_make(
        owner=rep,
        title='<img src="http://127.0.0.1:9/t.png">',
        comments='<link rel="stylesheet" href="https://example.com/x.css">',
    )
    text = text_of(quote_document_pdf(quote_document(quote, issue_date=timezone.localdate())))
    assert fetched == []
    assert '<img src="http://127.0.0.1:9/t.png">' in text


def test_a_long_quote_breaks_into_pages(rep):
    lines = [(f"Item {n}", "1", "10.00", "BTW 21%", "one_time") for n in range(60)]
    _quote, publication = published(actor=rep, lines=lines, expires_in_days=10)
    reader = pypdf.PdfReader(io.BytesIO(publication_pdf_bytes(publication)))
    assert len(reader.pages) >= 2
    assert "Item 59" in text_of(publication_pdf_bytes(publication))
    assert timezone.localdate() + timedelta(days=10) == _quote.expires_on
