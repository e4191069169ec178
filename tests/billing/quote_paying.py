"""Test data for payment on a quote: a published quote with its deal, buyer, lines and publication, ready for the
buyer to press Pay; and running the handlers the worker runs after commit (alpha tenant unless said)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from billing.documents import invoice_settings_get
from billing.models import (
    DocumentAdjustment,
    LineItem,
    Quote,
    QuotePublication,
    QuoteSigner,
    QuoteStatus,
)
from billing.quote_documents import quote_document
from commerce_hub.events.models import Delivery, OutgoingEmail
from commerce_hub.events.services import delivery_run
from crm.models import Deal, Pipeline
from tests.billing.invoicing import buyer_make, rate, seller_ready


def line(name, quantity, price, tax="BTW 21%", *, frequency="one_time", start="checkout", date=None, delay=None):
    return {
        "name": name,
        "quantity": Decimal(quantity),
        "unit_price": Decimal(price),
        "tax": tax,
        "frequency": frequency,
        "billing_start": start,
        "billing_start_date": date,
        "billing_start_delay": delay,
    }


def quote_make(
    *,
    lines=None,
    adjustments=(),
    status=QuoteStatus.PUBLISHED,
    payment_enabled=True,
    signature_required=False,
    owner=None,
    currency="EUR",
    email="kari@fjordline.example",
    number="Q-1001",
    language="en",
) -> tuple[Quote, QuotePublication]:
    """A published quote of a deal in the default pipeline for Fjordline AS (contact Kari Nordmann), with `lines`
    (dicts from line()) and `adjustments` ((kind, label, percent, amount)), paid by card or bank transfer."""
    seller_ready()
    settings = invoice_settings_get()
    settings.payment_methods = ["card", "bank_transfer"]
    settings.save(update_fields=["payment_methods"])
    company, contact = buyer_make(email=email, language=language)
    pipeline = Pipeline.objects.get(is_default=True)
    deal = Deal.objects.create(
        name="Fjordline rollout",
        pipeline=pipeline,
        stage=pipeline.stages.order_by("position").first(),
        company=company,
        owner=owner,
    )
    quote = Quote.objects.create(
        status=status,
        number=number,
        sequence=int(number.rsplit("-", 1)[-1]),
        revision=1,
        title="Fjordline rollout",
        expires_on=timezone.localdate() + timedelta(days=30),
        language=language,
        currency=currency,
        deal=deal,
        company=company,
        owner=owner,
        signature_required=signature_required,
        payment_enabled=payment_enabled,
        payment_methods=["card", "bank_transfer"],
        published_at=timezone.now(),
    )
    quote.contacts.set([contact])
    lines = (line("Implementation", "2", "500.00"),) if lines is None else lines  # 1,000.00 + 210.00 VAT
    for position, values in enumerate(lines):
        values = dict(values)
        tax = values.pop("tax")
        LineItem.objects.create(
            quote=quote, position=position, currency=currency, tax_rate=rate(tax) if tax else None, **values
        )
    for position, (kind, label, percent, amount) in enumerate(adjustments):
        DocumentAdjustment.objects.create(
            quote=quote,
            position=position,
            kind=kind,
            label=label,
            percent=Decimal(percent) if percent else None,
            amount=Decimal(amount) if amount else None,
        )
    publication = QuotePublication.objects.create(
        quote=quote,
        revision=1,
        token=secrets.token_urlsafe(32),
        # What publishing freezes; the PDF file itself is not needed here.
        snapshot=quote_document(quote, issue_date=timezone.localdate(), number=number, revision=1),
        pdf_path="quotes/q-1001-1.pdf",
        pdf_sha256="0" * 64,
    )
    Quote.objects.filter(pk=quote.pk).update(publication=publication)
    quote.refresh_from_db()
    return quote, publication


def sign_all(publication: QuotePublication, *, status=QuoteStatus.SIGNED) -> None:
    """Every signer of the publication has signed (the signing feature's outcome, written directly)."""
    quote = publication.quote
    for contact in quote.contacts.all():
        QuoteSigner.objects.get_or_create(
            publication=publication,
            email=contact.email,
            defaults={
                "role": "buyer",
                "contact": contact,
                "name": contact.full_name,
                "signed_at": timezone.now(),
                "signature_kind": "typed",
                "signature_name": contact.full_name,
                "pdf_sha256": publication.pdf_sha256,
            },
        )
    Quote.objects.filter(pk=quote.pk).update(status=status, signed_at=timezone.now())


def pay_url(publication: QuotePublication) -> str:
    return f"/billing/q/{publication.token}/checkout/"


def run_handlers(*names: str) -> int:
    """Run every pending delivery of the named handlers, as the worker would after commit (the test's transaction
    never commits). Returns how many ran."""
    ran = 0
    for delivery in Delivery.objects.filter(handler__in=names, status=Delivery.Status.PENDING).order_by("pk"):
        delivery_run(delivery_id=delivery.pk, force=True)
        ran += 1
    return ran


def emails_named(*subject_parts: str) -> list[OutgoingEmail]:
    emails = OutgoingEmail.objects.order_by("pk")
    return [e for e in emails if any(part in e.subject for part in subject_parts)]
