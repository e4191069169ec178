"""Receipts: one per succeeded payment, numbered RCPT-1001, RCPT-1002 ... in their own series, emailed to the buyer
with the PDF attached, printing what was true when issued, with the receipt's branding; staff download and resend."""

import io
import re
from decimal import Decimal

import pypdf
import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from billing.models import NumberSeries
from commerce_hub.accounts.models import Role
from commerce_hub.events.models import Delivery, OutboxEvent, OutgoingEmail
from commerce_hub.events.services import event_deliver, event_emit
from commerce_hub.mail import email_deliver
from commerce_hub.organization.models import OrganizationProfile
from commerce_hub.organization.selectors import organization_profile_forget
from payments import events
from payments.handlers import receipt_on_payment
from payments.models import Payment, PaymentSettings, Receipt, RefundMode
from payments.receipts_pdf import receipt_html, receipt_pdf_bytes
from payments.selectors.payments import receipt_document_get
from payments.services.refunds import refund_request
from tests.conftest import user_make
from tests.payments.paying import open_invoice, pay

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _locmem_email_and_own_media(settings, tmp_path):
    """Emails kept in memory; PDFs and logos stored in this test's own folder, since the database rollback cannot
    take files back."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": settings.STORAGES["default"]["BACKEND"], "OPTIONS": {"location": str(tmp_path)}}
    }
    assert default_storage.path("x") == str(tmp_path / "x")


def deliver(payment: Payment) -> OutboxEvent:
    event = OutboxEvent.objects.get(name="payment.succeeded", payload__id=payment.pk)
    event_deliver(event_id=event.pk)
    return event


def test_receipts_are_numbered_in_their_own_series_once_per_payment(tenant_alpha):
    first, second = pay(open_invoice()), pay(open_invoice())
    event = deliver(first)
    deliver(second)
    assert [(r.payment_id, r.number) for r in Receipt.objects.order_by("number")] == [
        (first.pk, "RCPT-1001"),
        (second.pk, "RCPT-1002"),
    ]

    # The event delivered again (a worker died after the receipt was made), and the same news in a second event:
    # the receipt stays the one there is, and no number is taken for nothing.
    delivery = Delivery.objects.get(event=event, handler="payments.receipt_issue")
    receipt_on_payment(event, delivery_id=delivery.pk)
    with transaction.atomic():
        again = event_emit(name=events.PAYMENT_SUCCEEDED, payload=event.payload)
    event_deliver(event_id=again.pk)
    assert Receipt.objects.count() == 2
    assert NumberSeries.objects.get(key="receipt").next_number == 1003
    assert OutgoingEmail.objects.filter(subject__startswith="Receipt").count() == 2


def test_a_payment_that_did_not_succeed_gets_no_receipt(tenant_alpha):
    from payments.processors.builtin import CARD_DECLINED
    from payments.services.receipts import receipt_issue

    declined = pay(open_invoice(), data={"number": CARD_DECLINED, "cvc": "1"})
    assert receipt_issue(payment_id=declined.pk) is None
    assert not Receipt.objects.exists()
    assert not NumberSeries.objects.filter(key="receipt", last_used__isnull=False).exists()


def test_the_buyer_gets_the_receipt_by_email_with_the_pdf_attached(tenant_alpha):
    invoice = open_invoice()
    payment = pay(invoice)
    deliver(payment)
    receipt = Receipt.objects.get()
    email = OutgoingEmail.objects.get(subject__startswith="Receipt")
    assert (email.to, email.subject) == ("kari@fjordline.example", "Receipt RCPT-1001 from Alpha Handel B.V.")
    assert email_deliver(email_id=email.pk) is True
    sent = mail.outbox[0]
    body = " ".join(sent.body.split())
    assert f"Thank you for your payment of €242.00 for invoice {invoice.number}. The invoice is paid in full." in body
    assert "Your receipt RCPT-1001 is attached." in body
    assert f"Method: Visa •••• 4242 Payment reference: {payment.public_id}" in body
    assert "Test mode: no real money was moved." in body
    [(name, content, mimetype)] = sent.attachments
    assert (name, mimetype) == ("RCPT-1001.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    receipt.refresh_from_db()
    assert receipt.emailed_at is not None and receipt.pdf_path.startswith("receipts/RCPT-1001-")


def test_the_pdf_is_rendered_once_and_cached(tenant_alpha, monkeypatch):
    payment = pay(open_invoice())
    deliver(payment)
    receipt = Receipt.objects.get()
    first = receipt_pdf_bytes(receipt)

    def no_second_render(document):
        raise AssertionError("rendered twice")

    monkeypatch.setattr("payments.receipts_pdf.receipt_pdf", no_second_render)
    assert receipt_pdf_bytes(Receipt.objects.get()) == first


def test_the_receipt_prints_the_payment_the_invoice_and_the_receipts_branding(tenant_alpha):
    PaymentSettings.objects.update_or_create(
        pk=1, defaults={"receipt_footer": "Thanks for sailing with Alpha", "receipt_accent_color": "#c2410c"}
    )
    invoice = open_invoice()
    payment = pay(invoice)
    deliver(payment)
    html = receipt_html(receipt_document_get(Receipt.objects.get()))
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert '<html lang="en">' in html
    assert "--accent:#c2410c" in html  # the receipt's own accent colour, not the invoice's
    for expected in (
        "Receipt RCPT-1001",
        "Received from Fjordline AS",
        "Receipt number RCPT-1001",
        "Payment method Visa •••• 4242",
        f"Invoice number {invoice.number}",
        f"Payment reference {payment.public_id}",
        f"Payment for invoice {invoice.number}",
        "Invoice total €242.00",
        "Amount paid €242.00",
        "Still due on the invoice €0.00",
        f"Invoice {invoice.number} is paid in full. Thank you!",
        "Thanks for sailing with Alpha",
        "Test mode: no real money was moved",
        "Alpha Handel B.V.",
    ):
        assert expected in text, expected


def test_the_pdf_has_the_logo_and_the_figures(tenant_alpha):
    profile = OrganizationProfile.objects.get(pk=1)
    buffer = io.BytesIO()
    Image.new("RGB", (240, 80), "#c2410c").save(buffer, "PNG")
    profile.logo.save("logo.png", ContentFile(buffer.getvalue()))
    organization_profile_forget()
    invoice = open_invoice()
    deliver(pay(invoice))
    receipt = Receipt.objects.get()
    assert receipt_document_get(receipt)["logo_path"].startswith("invoice-logos/")
    reader = pypdf.PdfReader(io.BytesIO(receipt_pdf_bytes(receipt)))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    for expected in ("Receipt RCPT-1001", "Visa •••• 4242", invoice.number, "€242.00", "Fjordline AS"):
        assert expected in text, expected
    assert any("/Image" in str(obj.get("/Subtype")) for obj in reader.pages[0]["/Resources"]["/XObject"].values())


def test_the_receipt_keeps_what_was_due_when_it_was_issued(tenant_alpha, admin_user):
    invoice = open_invoice()
    payment = pay(invoice)
    # Refunded in part before the receipt went out: it says what was left to pay then ...
    refund_request(payment=payment, amount="42.00", mode=RefundMode.REOPEN, actor=admin_user)
    deliver(payment)
    receipt = Receipt.objects.get()
    text = " ".join(re.sub(r"<[^>]+>", " ", receipt_html(receipt_document_get(receipt))).split())
    assert f"Thank you! €42.00 is still due on invoice {invoice.number}." in text
    # ... and keeps saying it after the invoice changed again.
    refund_request(payment=payment, amount="100.00", mode=RefundMode.REOPEN, actor=admin_user)
    text = " ".join(re.sub(r"<[^>]+>", " ", receipt_html(receipt_document_get(receipt))).split())
    assert "Still due on the invoice €42.00" in text


def test_the_receipt_speaks_the_buyers_language(tenant_alpha):
    payment = pay(open_invoice())
    Payment.objects.filter(pk=payment.pk).update(language="nb")
    deliver(payment)
    document = receipt_document_get(Receipt.objects.get())
    assert document["language"] == "nb"
    html = receipt_html(document)
    assert '<html lang="nb">' in html
    assert 'Betalt beløp</td><td class="r">242,00\xa0€' in html  # money as Norwegians write it


def test_staff_download_the_receipt_and_send_it_again(client_alpha, tenant_alpha):
    payment = pay(open_invoice())
    client_alpha.force_login(user_make(Role.FINANCE))
    assert client_alpha.get(f"/payments/{payment.pk}/receipt.pdf").status_code == 404  # not issued yet
    deliver(payment)
    response = client_alpha.get(f"/payments/{payment.pk}/receipt.pdf?download=1")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="RCPT-1001.pdf"'
    assert response.content.startswith(b"%PDF")

    page = client_alpha.get(f"/payments/{payment.pk}/").content.decode()
    assert "Receipt RCPT-1001 issued" in page and "Receipt RCPT-1001 emailed to kari@fjordline.example" in page
    key = KEY.search(page.split('id="receipt"')[1]).group(1)
    url = f"/payments/{payment.pk}/receipt/send/"
    sent = client_alpha.post(url, {"to": "ap@fjordline.example", "idempotency_key": key})
    assert sent.status_code == 302
    again = client_alpha.post(url, {"to": "ap@fjordline.example", "idempotency_key": key})
    assert again["Location"] == sent["Location"]
    assert list(
        OutgoingEmail.objects.filter(subject__startswith="Receipt").order_by("id").values_list("to", flat=True)
    ) == [
        "kari@fjordline.example",
        "ap@fjordline.example",
    ]
    bad = client_alpha.post(url, {"to": "not an address", "idempotency_key": "k" * 32})
    assert "Enter a valid email address." in client_alpha.get(bad["Location"]).content.decode()
    assert OutgoingEmail.objects.filter(subject__startswith="Receipt").count() == 2

    client_alpha.force_login(user_make(Role.SALES))
    assert client_alpha.get(f"/payments/{payment.pk}/receipt.pdf").status_code == 200
    assert client_alpha.post(url, {"idempotency_key": "s" * 32}).status_code == 403
    assert OutgoingEmail.objects.filter(subject__startswith="Receipt").count() == 2


def test_the_refund_notice_names_the_credit_note(tenant_alpha, admin_user):
    invoice = open_invoice()
    payment = pay(invoice)
    refund = refund_request(payment=payment, amount="121.00", mode=RefundMode.CREDIT_NOTE, actor=admin_user)
    event_deliver(event_id=OutboxEvent.objects.get(name="refund.succeeded").pk)
    email = OutgoingEmail.objects.get(subject__contains="refunded")
    assert email.subject == "Alpha Handel B.V. refunded €121.00"
    text = " ".join(email.text.split())
    assert f"Credit note {refund.credit_note.number} records it." in text
    assert refund.amount == Decimal("121.00")
