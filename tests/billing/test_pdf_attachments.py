"""Billing's seams for other features: files embedded in invoice PDFs and buttons on the invoice record page."""

import io

import pytest
from pypdf import PdfReader

from billing import pdf_attachments, record_actions
from billing.pdf import invoice_pdf_bytes
from tests.billing.invoicing import finalized_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def registries(monkeypatch):
    monkeypatch.setattr(pdf_attachments, "_providers", [])
    monkeypatch.setattr(record_actions, "_invoice_actions", [])
    monkeypatch.setattr(record_actions, "_credit_note_actions", [])


def test_registered_files_are_embedded_in_a_finalized_invoice_pdf_and_cached_with_it(tenant_alpha, registries):
    calls = []

    def provider(document):
        calls.append(document.number)
        return [("data.xml", b"<x/>", "application/xml", "Data")]

    pdf_attachments.register_pdf_attachments(provider)
    invoice = finalized_make()
    pdf = invoice_pdf_bytes(invoice)
    reader = PdfReader(io.BytesIO(pdf))
    assert {name: files[0] for name, files in reader.attachments.items()} == {"data.xml": b"<x/>"}
    assert invoice_pdf_bytes(invoice) == pdf
    assert calls == [invoice.number]  # the second download is the cached file


def test_forgetting_the_cache_renders_each_pdf_again(tenant_alpha, registries):
    invoice = finalized_make()
    invoice_pdf_bytes(invoice)
    invoice.refresh_from_db()
    assert invoice.pdf_path
    assert pdf_attachments.pdf_cache_forget() == 1
    invoice.refresh_from_db()
    assert invoice.pdf_path == ""


def test_record_page_shows_registered_actions(admin_client, registries):
    invoice = finalized_make()
    record_actions.register_invoice_action(lambda request, inv: ("Send to the moon", f"/moon/{inv.pk}/"))
    record_actions.register_invoice_action(lambda request, inv: None)
    page = admin_client.get(f"/billing/invoices/{invoice.pk}/").content.decode()
    assert f'href="/moon/{invoice.pk}/">Send to the moon</a>' in page
