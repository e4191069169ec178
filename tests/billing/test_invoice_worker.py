"""Finalizing and sending an invoice with a real Celery worker on the real broker: after commit the worker delivers
invoice.finalized, renders and caches the PDF, and sends the email with that PDF attached."""

import io
import time

import pypdf
import pytest
from django.core.files.storage import default_storage

from billing.models import Invoice
from billing.services.invoices import invoice_finalize, invoice_send
from commerce_hub.events.models import Delivery, OutgoingEmail
from tests.billing.invoicing import draft_make, seller_ready
from tests.platform.test_celery_worker import WORKER_MAIL, celery_worker  # noqa: F401 - the worker process fixture

pytestmark = pytest.mark.celery_worker


def _wait_for(check, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("the worker did not get there in time")


def test_the_worker_renders_the_pdf_and_sends_it_attached(celery_worker, live_tenant):  # noqa: F811
    seller_ready()
    invoice = invoice_finalize(invoice=draft_make(), actor=None)
    invoice_send(invoice=invoice, actor=None)

    path = _wait_for(lambda: Invoice.objects.get(pk=invoice.pk).pdf_path)
    with default_storage.open(path, "rb") as fh:
        text = pypdf.PdfReader(io.BytesIO(fh.read())).pages[0].extract_text()
    assert "INV-1001" in text
    email = _wait_for(lambda: OutgoingEmail.objects.filter(sent_at__isnull=False).first())
    assert email.subject == "Invoice INV-1001 from Alpha Handel B.V."
    assert email.attempts == 1 and email.last_error == ""
    sent = [p.read_text(errors="replace") for p in WORKER_MAIL.glob("*.log")]
    message = next(m for m in sent if "Invoice INV-1001 from Alpha Handel B.V." in m)
    assert "Content-Type: application/pdf" in message and 'filename="INV-1001.pdf"' in message
    # The PDF may have been rendered first for the email's attachment; the handler's delivery still completes.
    assert _wait_for(
        lambda: Delivery.objects.filter(
            event__name="invoice.finalized",
            handler="billing.invoice_pdf_on_finalize",
            status=Delivery.Status.SUCCEEDED,
        ).exists()
    )
