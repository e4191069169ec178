"""Invoice and credit note PDFs: what they must print (Dutch and Norwegian invoice rules), in the invoice's
language and number formats, the pro-forma of a draft, the EPC payment QR code, and the PDF cache of finalized
documents (render once, race safely, keep the logo they were finalized with)."""

import io
from datetime import date
from decimal import Decimal

import pypdf
import pytest
from babel.dates import format_date
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone, translation
from PIL import Image

from billing import pdf
from billing.documents import invoice_settings_get
from billing.models import CreditNote, Invoice, InvoiceSettings, PaymentMethod
from billing.services.credit_notes import credit_note_create
from billing.services.invoices import invoice_finalize
from commerce_hub.organization.models import OrganizationProfile
from commerce_hub.organization.selectors import organization_profile_forget
from tests.billing.invoicing import draft_make, finalized_make, seller_ready

IBAN = "NL91ABNA0417164300"


@pytest.fixture
def media(tenant_alpha, settings, tmp_path):
    """Media storage of this test's own: what it stores (PDFs, logos) never meets another test's files, and the
    files go with the temporary folder, since the database rollback cannot take them back."""
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": settings.STORAGES["default"]["BACKEND"], "OPTIONS": {"location": str(tmp_path)}}
    }
    assert default_storage.path("x") == str(tmp_path / "x")
    return default_storage


@pytest.fixture
def bank(tenant_alpha):
    invoice_settings_get()
    InvoiceSettings.objects.filter(pk=1).update(
        bank_account_holder="Alpha Handel B.V.",
        iban=IBAN,
        bic="ABNANL2A",
        footer_text="Questions? finance@alpha.example",
        legal_text="Our general terms of delivery apply.",
    )


def pages_text(data: bytes) -> list[str]:
    # Whitespace collapsed to single spaces: Babel separates amounts from currencies with a no-break space, and
    # where the text extraction breaks lines depends on the layout, not on what is printed.
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def text_of(data: bytes) -> str:
    return " ".join(pages_text(data))


def stored_pdfs(storage) -> list[str]:
    return sorted(storage.listdir("invoices")[1]) if storage.exists("invoices") else []


def png(size: tuple[int, int], color: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    return buffer.getvalue()


def logo_upload(content: bytes, name: str = "logo.png") -> None:
    profile = OrganizationProfile.objects.get(pk=1)
    profile.logo.save(name, ContentFile(content))
    organization_profile_forget()


# --- what an invoice prints -----------------------------------------------------------------------------------------


def test_dutch_invoice_prints_the_legally_required_fields_in_dutch_formats(media, bank, admin_user):
    invoice = finalized_make(actor=admin_user, language="nl")
    text = text_of(pdf.invoice_pdf_bytes(invoice))

    # Seller: legal name, address, VAT number, Chamber of Commerce number.
    for expected in ("Alpha Handel B.V.", "Keizersgracht 1", "1015 AA Amsterdam", "NL000099998B57", "12345678"):
        assert expected in text
    # Buyer: name, address, VAT number.
    for expected in ("Fjordline AS", "Strandgaten 5", "5013 Bergen", "NO974760673MVA"):
        assert expected in text
    # Number, invoice date and due date, in Dutch.
    assert invoice.number in text
    assert format_date(invoice.issue_date, "long", locale="nl_NL") in text
    assert format_date(invoice.due_date, "long", locale="nl_NL") in text
    # The line (description, quantity, unit price, VAT rate, net), the VAT per rate and the totals.
    assert "Consulting 2 € 100,00 21% € 200,00" in text
    assert "BTW 21% € 200,00 € 42,00" in text
    assert "Subtotaal € 200,00" in text
    assert "Totaal € 242,00" in text
    # Labels that already have their Dutch translation.
    for label in ("Omschrijving", "Aantal", "Stukprijs", "Vervaldatum"):
        assert label in text
    # Payment: amount, bank transfer details with the number as reference, accepted methods.
    assert "NL91 ABNA 0417 1643 00" in text
    assert "ABNANL2A" in text
    with translation.override("nl"):
        # Whatever the Dutch catalogue says for these labels once they are translated.
        assert f"{translation.gettext('Payment reference')} {invoice.number}" in text
        assert f"{PaymentMethod.BANK_TRANSFER.label}, {PaymentMethod.CARD.label}" in text
        assert translation.gettext("VAT reverse-charged") not in text
    assert "Questions? finance@alpha.example" in text
    assert "Our general terms of delivery apply." in text


def test_norwegian_invoice_prints_norwegian_formats_and_foretaksregisteret(media, bank, admin_user):
    seller_ready(country="NO", vat_number="NO923609016MVA", registration_number="923609016", city="Oslo")
    draft = draft_make(actor=admin_user, currency="NOK", language="nb", lines=(("Rådgivning", "2", "1000", "MVA 25%"),))
    invoice = invoice_finalize(invoice=draft, actor=admin_user)
    text = text_of(pdf.invoice_pdf_bytes(invoice))

    assert "923609016 Foretaksregisteret" in text
    assert "NO923609016MVA" in text
    assert "Rådgivning 2 1 000,00 kr 25 % 2 000,00 kr" in text
    assert "MVA 25% 2 000,00 kr 500,00 kr" in text
    assert "Totalt 2 500,00 kr" in text
    assert format_date(invoice.due_date, "long", locale="nb_NO") in text
    for label in ("Beskrivelse", "Antall", "Enhetspris", "Forfallsdato", "Delsum"):
        assert label in text


def test_english_invoice_formats_money_the_irish_english_way(media, bank, admin_user):
    invoice = finalized_make(actor=admin_user, language="en", lines=(("Licence", "1", "1234.5", "BTW 21%"),))
    text = text_of(pdf.invoice_pdf_bytes(invoice))

    assert "Licence 1 €1,234.50 21% €1,234.50" in text
    assert "Total €1,493.75" in text
    assert f"Please pay €1,493.75 by {format_date(invoice.due_date, 'long', locale='en_IE')}." in text
    for label in ("Invoice number", "Invoice date", "Due date", "Unit price", "Payment terms", "14 days"):
        assert label in text


def test_reverse_charge_invoice_prints_the_mention(media, bank, admin_user):
    invoice = finalized_make(actor=admin_user, lines=(("Consulting", "2", "100.00", "EU reverse charge"),))
    text = text_of(pdf.invoice_pdf_bytes(invoice))

    assert "VAT reverse-charged" in text
    assert "EU reverse charge €200.00 €0.00" in text
    assert "NO974760673MVA" in text  # the buyer's VAT number, which reverse charge requires
    assert "Total €200.00" in text


def test_late_fee_invoice_names_the_invoice_it_charges_for():
    document = pdf_document(late_fee_for="INV-1001")
    text = text_of(pdf.document_pdf(document))
    assert "Late fee for invoice INV-1001" in text


def test_user_text_cannot_make_the_renderer_fetch_urls(monkeypatch):
    fetched = []
    real_fetch = pdf._OfflineFetcher.fetch
    monkeypatch.setattr(
        pdf._OfflineFetcher, "fetch", lambda self, url, headers=None: fetched.append(url) or real_fetch(self, url)
    )
    document = pdf_document(comments='<img src="http://127.0.0.1:9/pixel.png">', logo_path="")
    document["seller"]["legal_name"] = 'Evil <link rel="stylesheet" href="https://example.com/x.css">'
    text = text_of(pdf.document_pdf(document))

    assert all(url.startswith("data:") for url in fetched)  # the QR code, nothing else
    assert '<img src="http://127.0.0.1:9/pixel.png">' in text  # printed as text, never loaded
    with pytest.raises(ValueError):
        pdf._OfflineFetcher().fetch("https://example.com/logo.png")


# --- the pro-forma of a draft ---------------------------------------------------------------------------------------


def test_draft_renders_a_pro_forma_without_number_and_is_never_cached(media, bank, admin_user):
    seller_ready()
    draft = draft_make(actor=admin_user)
    stored_before = stored_pdfs(media)
    text = text_of(pdf.invoice_pdf_bytes(draft))

    assert "Pro-forma invoice" in text
    assert "This is not an invoice".upper() in text.upper()
    assert "Invoice number" not in text
    assert "Payment reference" not in text
    assert "INV-" not in text
    assert "Scan with your banking app" not in text  # no QR code without a number to pay against
    assert "Total €242.00" in text
    draft.refresh_from_db()
    assert draft.number is None
    assert draft.pdf_path == ""
    assert stored_pdfs(media) == stored_before


# --- the EPC QR code ------------------------------------------------------------------------------------------------


def test_epc_qr_payload_follows_the_epc069_12_format():
    payload = pdf.epc_qr_payload(
        name="Alpha Handel B.V.",
        iban="nl91 abna 0417 1643 00",
        bic="abnanl2a",
        amount=Decimal("242"),
        reference="INV-1001",
    )
    assert payload == "BCD\n002\n1\nSCT\nABNANL2A\nAlpha Handel B.V.\nNL91ABNA0417164300\nEUR242.00\n\n\nINV-1001"


def test_epc_qr_payload_rounds_to_cents_trims_the_name_and_allows_no_bic():
    payload = pdf.epc_qr_payload(
        name="Ørsta Tre " + "x" * 80, iban=IBAN, bic="", amount=Decimal("1234.565"), reference="INV-7"
    )
    lines = payload.split("\n")
    assert lines[4] == ""
    assert lines[5] == ("Ørsta Tre " + "x" * 80)[:70]
    assert lines[7] == "EUR1234.57"


@pytest.mark.parametrize(
    "changes",
    [{"amount": Decimal("0")}, {"amount": Decimal("1000000000")}, {"iban": ""}, {"bic": "ABC"}, {"name": " "}],
)
def test_epc_qr_payload_refuses_what_a_transfer_cannot_carry(changes):
    values = {"name": "Alpha", "iban": IBAN, "bic": "ABNANL2A", "amount": Decimal("10"), "reference": "INV-1"}
    with pytest.raises(ValueError):
        pdf.epc_qr_payload(**(values | changes))


def test_eur_invoice_carries_the_qr_code_of_its_amount_and_number(media, bank, admin_user, monkeypatch):
    payloads = []
    real = pdf.epc_qr_data_uri
    monkeypatch.setattr(pdf, "epc_qr_data_uri", lambda payload: payloads.append(payload) or real(payload))
    invoice = finalized_make(actor=admin_user)
    text = text_of(pdf.invoice_pdf_bytes(invoice))

    assert payloads == [f"BCD\n002\n1\nSCT\nABNANL2A\nAlpha Handel B.V.\n{IBAN}\nEUR242.00\n\n\n{invoice.number}"]
    assert "Scan with your banking app to pay" in text


def test_nok_invoice_has_no_qr_code(media, bank, admin_user, monkeypatch):
    monkeypatch.setattr(pdf, "epc_qr_data_uri", lambda payload: pytest.fail("no EPC QR code outside EUR"))
    invoice = finalized_make(actor=admin_user, currency="NOK", lines=(("Consulting", "2", "100.00", "MVA 25%"),))
    text = text_of(pdf.invoice_pdf_bytes(invoice))

    assert "Scan with your banking app" not in text
    assert "NL91 ABNA 0417 1643 00" in text  # the bank transfer details are still printed


def test_invoice_with_nothing_to_pay_has_no_qr_code():
    document = pdf_document(total="0.00")
    text = text_of(pdf.document_pdf(document))
    assert "Nothing is due on this invoice." in text
    assert "Scan with your banking app" not in text


# --- the cache ------------------------------------------------------------------------------------------------------


def test_finalized_invoice_pdf_is_rendered_once_and_then_served_from_storage(media, bank, admin_user, monkeypatch):
    invoice = finalized_make(actor=admin_user)
    first = pdf.invoice_pdf_bytes(invoice)

    stored = Invoice.objects.get(pk=invoice.pk).pdf_path
    assert stored.startswith(f"invoices/{invoice.number}-") and stored.endswith(".pdf")
    assert media.open(stored, "rb").read() == first

    monkeypatch.setattr(pdf, "document_pdf", lambda *args, **kwargs: pytest.fail("rendered again"))
    assert pdf.invoice_pdf_bytes(invoice) == first
    assert pdf.invoice_pdf_bytes(Invoice.objects.get(pk=invoice.pk)) == first  # a fresh instance too
    invoice_without_path = Invoice.objects.get(pk=invoice.pk)
    invoice_without_path.pdf_path = ""  # a stale instance loaded before the render
    assert pdf.invoice_pdf_bytes(invoice_without_path) == first


def test_a_lost_cache_file_is_rendered_again(media, bank, admin_user):
    invoice = finalized_make(actor=admin_user)
    pdf.invoice_pdf_bytes(invoice)
    media.delete(invoice.pdf_path)

    again = pdf.invoice_pdf_bytes(Invoice.objects.get(pk=invoice.pk))

    path = Invoice.objects.get(pk=invoice.pk).pdf_path
    assert media.exists(path)
    assert invoice.number in text_of(again)


def test_racing_renders_keep_the_first_recorded_file(media, bank, admin_user, monkeypatch):
    invoice = finalized_make(actor=admin_user)
    winner = media.save("invoices/winner.pdf", ContentFile(b"%PDF-winner"))
    saved = []
    real_save = media.save

    def render_while_another_worker_wins(document, **kwargs):
        # The other render finishes and records its file while this one is still rendering.
        Invoice.objects.filter(pk=invoice.pk).update(pdf_path=winner)
        return b"%PDF-loser"

    monkeypatch.setattr(pdf, "document_pdf", render_while_another_worker_wins)
    monkeypatch.setattr(media, "save", lambda name, content: saved.append(real_save(name, content)) or saved[-1])

    assert pdf.invoice_pdf_bytes(invoice) == b"%PDF-loser"
    assert Invoice.objects.get(pk=invoice.pk).pdf_path == winner
    assert len(saved) == 1 and not media.exists(saved[0])  # the loser cleaned up its copy


def test_finalized_invoice_keeps_its_logo_after_a_new_one_is_uploaded(media, bank, admin_user):
    seller_ready()
    logo_upload(png((60, 20), "red"))
    invoice = invoice_finalize(invoice=draft_make(actor=admin_user), actor=admin_user)
    logo_upload(png((20, 60), "blue"), name="new-logo.png")

    data = pdf.invoice_pdf_bytes(invoice)

    assert invoice.snapshot["logo_path"].startswith("invoice-logos/")
    images = [image.image for page in pypdf.PdfReader(io.BytesIO(data)).pages for image in page.images]
    assert [image.size for image in images] == [(60, 20)]
    assert images[0].convert("RGB").getpixel((5, 5)) == (255, 0, 0)
    # The draft's pro-forma, by contrast, shows the current logo.
    draft_pdf = pdf.invoice_pdf_bytes(draft_make(actor=admin_user))
    assert [i.image.size for p in pypdf.PdfReader(io.BytesIO(draft_pdf)).pages for i in p.images] == [(20, 60)]


# --- credit notes ---------------------------------------------------------------------------------------------------


def test_credit_note_pdf_prints_its_number_the_invoice_it_credits_and_totals(media, bank, admin_user, monkeypatch):
    invoice = finalized_make(actor=admin_user)
    note = credit_note_create(invoice=invoice, actor=admin_user, whole=True, reason="Returned goods")
    data = pdf.credit_note_pdf_bytes(note)
    text = text_of(data)

    assert "Credit note" in text
    assert note.number in text
    assert invoice.number in text
    assert format_date(date.fromisoformat(invoice.snapshot["issue_date"]), "long", locale="en_IE") in text
    assert "Returned goods" in text
    assert "Consulting 2 21% €200.00" in text
    assert "BTW 21% €200.00 €42.00" in text
    assert "Total credited €242.00" in text
    assert "Alpha Handel B.V." in text and "NO974760673MVA" in text

    stored = CreditNote.objects.get(pk=note.pk).pdf_path
    assert stored.startswith(f"credit-notes/{note.number}-")
    monkeypatch.setattr(pdf, "document_pdf", lambda *args, **kwargs: pytest.fail("rendered again"))
    assert pdf.credit_note_pdf_bytes(CreditNote.objects.get(pk=note.pk)) == data


# --- pages ----------------------------------------------------------------------------------------------------------


def test_long_invoice_breaks_into_pages_with_the_table_header_and_page_numbers_on_each(media, bank, admin_user):
    lines = tuple((f"Service item {i:02d}", "1", "10.00", "BTW 21%") for i in range(1, 41))
    invoice = finalized_make(actor=admin_user, lines=lines)
    pages = pages_text(pdf.invoice_pdf_bytes(invoice))

    assert len(pages) > 1
    for number, page in enumerate(pages, start=1):
        assert "Description Quantity Unit price VAT Amount" in page
        assert f"Page {number} of {len(pages)}" in page
        assert "Alpha Handel B.V." in page  # the footer's registration details
    assert all(f"Service item {i:02d}" in "\n".join(pages) for i in range(1, 41))
    assert "Total €484.00" in pages[-1]


def test_a_one_line_invoice_fits_one_page(media, bank, admin_user):
    invoice = finalized_make(actor=admin_user)
    assert len(pages_text(pdf.invoice_pdf_bytes(invoice))) == 1


# --- helpers --------------------------------------------------------------------------------------------------------


def pdf_document(**changes) -> dict:
    """A finalized invoice's document as billing.documents builds it, without the database."""
    document = {
        "kind": "invoice",
        "number": "INV-2001",
        "currency": "EUR",
        "language": "en",
        "issue_date": timezone.localdate().isoformat(),
        "due_date": timezone.localdate().isoformat(),
        "payment_terms_days": 0,
        "payment_methods": ["bank_transfer"],
        "seller": {
            "legal_name": "Alpha Handel B.V.",
            "address_line1": "Keizersgracht 1",
            "address_line2": "",
            "postal_code": "1015 AA",
            "city": "Amsterdam",
            "country": "NL",
            "vat_number": "NL000099998B57",
            "registration_number": "12345678",
            "accent_color": "#0f766e",
        },
        "buyer": {"name": "Fjordline AS", "attention": "", "country": "NO", "vat_number": "", "emails": []},
        "lines": [
            {
                "name": "Late fee",
                "description": "",
                "sku": "",
                "quantity": "1",
                "unit_price": "40",
                "pricing_model": "flat",
                "package_size": None,
                "frequency": "one_time",
                "discount": "0.00",
                "net": "40.00",
                "vat_base": "40.00",
                "tax_rate": "0",
                "tax_label": "",
                "reverse_charge": False,
            }
        ],
        "adjustments": [],
        "vat_groups": [{"rate": "0", "label": "", "reverse_charge": False, "base": "40.00", "vat": "0.00"}],
        "subtotal": "40.00",
        "vat_total": "0.00",
        "total": "40.00",
        "reverse_charge": False,
        "bank": {"holder": "Alpha Handel B.V.", "iban": IBAN, "bic": "ABNANL2A"},
        "comments": "",
        "footer": "",
        "legal_text": "",
        "logo_path": "",
        "late_fee_for": None,
    }
    return document | changes


def test_a_graduated_line_prints_its_average_unit_price(tenant_alpha, admin_user):
    from billing.documents import invoice_document
    from billing.models import LineItem

    seller_ready()
    draft = draft_make(actor=admin_user, lines=())
    LineItem.objects.create(
        invoice=draft,
        name="API calls",
        quantity=Decimal("15000"),
        unit_price=Decimal(0),
        currency="EUR",
        pricing_model="graduated",
        tiers=[{"up_to": "10000", "unit_price": "0.50"}, {"up_to": None, "unit_price": "0.30"}],
    )
    document = invoice_document(draft, issue_date=date(2026, 12, 1))
    # 10,000 x 0.50 + 5,000 x 0.30 = 6,500.00 over 15,000 units = 0.433333...
    assert document["lines"][0]["net"] == "6500.00"
    assert document["lines"][0]["average_unit_price"] == "0.433333"
    text = text_of(pdf.document_pdf(document, proforma=True))
    assert "€0.433333" in text
