"""The e-invoice embedded in invoice and credit note PDFs (PDF/A-3, Factur-X style) when the tenant enables it."""

import io
import re
import shutil
import subprocess

import pytest
from pypdf import PdfReader

from billing.models import Invoice
from billing.pdf import credit_note_pdf_bytes, invoice_pdf_bytes
from integrations.exports.services import export_settings_update
from integrations.exports.ubl import credit_note_ubl, invoice_ubl
from tests.integrations.exports.data import credit_whole, nl_invoice

pytestmark = pytest.mark.django_db


def _attachments(pdf: bytes) -> dict[str, bytes]:
    return {name: contents[0] for name, contents in PdfReader(io.BytesIO(pdf)).attachments.items()}


def _png(pdf: bytes, tmp_path, name: str) -> bytes:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-singlefile", str(path), str(tmp_path / name)], check=True)
    return (tmp_path / f"{name}.png").read_bytes()


def test_pdfs_carry_no_e_invoice_unless_the_tenant_enables_it(tenant_alpha):
    invoice = nl_invoice()
    assert _attachments(invoice_pdf_bytes(invoice)) == {}
    assert _attachments(credit_note_pdf_bytes(credit_whole(invoice))) == {}


def test_enabled_the_invoice_pdf_is_pdf_a_3_with_the_ubl_of_the_same_snapshot(tenant_alpha):
    export_settings_update(actor=None, embed_ubl_in_pdf=True)
    invoice = nl_invoice()
    pdf = invoice_pdf_bytes(invoice)
    assert _attachments(pdf) == {f"invoice-{invoice.number}.xml": invoice_ubl(invoice)}
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(>|=")3', xmp) and re.search(r'pdfaid:conformance(>|=")B', xmp)
    # Served from the cache afterwards, attachment included.
    assert Invoice.objects.get(pk=invoice.pk).pdf_path
    assert _attachments(invoice_pdf_bytes(Invoice.objects.get(pk=invoice.pk))) == _attachments(pdf)
    note = credit_whole(invoice)
    assert _attachments(credit_note_pdf_bytes(note)) == {f"credit-note-{note.number}.xml": credit_note_ubl(note)}


def test_turning_embedding_on_renders_cached_pdfs_again_with_the_xml(tenant_alpha):
    invoice = nl_invoice()
    assert _attachments(invoice_pdf_bytes(invoice)) == {}
    export_settings_update(actor=None, embed_ubl_in_pdf=True)
    invoice = Invoice.objects.get(pk=invoice.pk)
    assert invoice.pdf_path == ""
    assert list(_attachments(invoice_pdf_bytes(invoice))) == [f"invoice-{invoice.number}.xml"]
    export_settings_update(actor=None, embed_ubl_in_pdf=False)
    assert _attachments(invoice_pdf_bytes(Invoice.objects.get(pk=invoice.pk))) == {}


def test_a_document_that_cannot_be_an_e_invoice_still_gets_its_pdf(tenant_alpha):
    from tests.integrations.exports.data import finalize, nl_buyer

    export_settings_update(actor=None, embed_ubl_in_pdf=True)
    company, contact = nl_buyer(vat_number="", registration_number="", email="")
    invoice = finalize([("Consulting", "1", "10.00", "BTW 21%")], company=company, contact=contact)
    pdf = invoice_pdf_bytes(invoice)
    assert pdf.startswith(b"%PDF") and _attachments(pdf) == {}


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) is not installed")
def test_the_page_renders_the_same_with_the_embedded_xml(tenant_alpha, tmp_path):
    from billing.pdf import document_pdf
    from billing.pdf_attachments import pdf_attachments_for

    export_settings_update(actor=None, embed_ubl_in_pdf=True)
    invoice = nl_invoice()
    plain = document_pdf(invoice.snapshot)
    embedded = document_pdf(invoice.snapshot, attachments=pdf_attachments_for(invoice))
    assert _attachments(embedded) and not _attachments(plain)
    assert _png(plain, tmp_path, "plain") == _png(embedded, tmp_path, "embedded")
