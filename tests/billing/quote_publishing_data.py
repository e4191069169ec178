"""Test data for published quotes: a deal with a buyer company and contacts, a quote with lines (made directly, so
these tests do not depend on the builder's forms), and helpers that publish it and walk a signer through the code
and the signature as the hosted page does."""

from __future__ import annotations

import base64
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, ImageDraw

from billing.models import LineItem, Quote, QuoteSigner, TaxRate
from billing.services.quote_publishing import quote_publish
from billing.services.quote_signing import quote_sign, signing_code_send, signing_code_verify
from commerce_hub.events.models import OutgoingEmail
from crm.demo_data import default_pipeline_ensure
from crm.models import Company, Contact, Deal
from tests.billing.invoicing import seller_ready

UA = "Mozilla/5.0 (X11; Linux x86_64) QuoteTest/1.0"
IP = "203.0.113.7"


@pytest.fixture
def media(tenant_alpha, settings, tmp_path):
    """Media storage of this test's own: the PDFs it stores go with the temporary folder (a database rollback
    cannot take files back)."""
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": settings.STORAGES["default"]["BACKEND"], "OPTIONS": {"location": str(tmp_path)}}
    }
    assert default_storage.path("x") == str(tmp_path / "x")
    return default_storage


def moved_clock(monkeypatch, when):
    """Every timezone.now() (and so localdate) in the code under test answers `when` from here on."""
    monkeypatch.setattr(timezone, "now", lambda: when)


def buyer_with_contacts(*names: tuple[str, str, str], company_name: str = "Fjordline AS") -> tuple[Company, list]:
    """The buyer company and its contacts (first name, last name, email); the same ones again when they exist."""
    company, _created = Company.objects.get_or_create(
        name=company_name,
        defaults={
            "address_line1": "Strandgaten 5",
            "postal_code": "5013",
            "city": "Bergen",
            "country": "NO",
            "vat_number": "NO974760673MVA",
        },
    )
    contacts = []
    for first, last, email in names or (("Kari", "Nordmann", "kari@fjordline.example"),):
        existing = Contact.objects.filter(email__iexact=email).first() if email else None
        contacts.append(
            existing or Contact.objects.create(first_name=first, last_name=last, email=email, company=company)
        )
    return company, contacts


def quote_make(
    *,
    owner=None,
    contacts=None,
    company=None,
    countersigners=(),
    lines=(("Implementation", "1", "1000.00", "BTW 21%", "one_time"),),
    signature_required=True,
    signing_order="any",
    expires_in_days=30,
    language="en",
    currency="EUR",
    **extra,
) -> Quote:
    """A draft quote on a new deal, with lines given as (name, quantity, unit price, tax rate name, frequency)."""
    seller_ready()
    if contacts is None:
        company, contacts = buyer_with_contacts()
    stage = default_pipeline_ensure().stages.first()
    deal = Deal.objects.create(
        name="Fleet tracking", pipeline=stage.pipeline, stage=stage, company=company, amount_currency=currency
    )
    quote = Quote.objects.create(
        title=extra.pop("title", "Fleet tracking rollout"),
        expires_on=timezone.localdate() + timedelta(days=expires_in_days),
        language=language,
        currency=currency,
        deal=deal,
        company=company,
        owner=owner,
        signature_required=signature_required,
        signing_order=signing_order,
        **extra,
    )
    for contact in contacts:
        quote.contacts.add(contact)
    for user in countersigners:
        quote.countersigners.add(user)
    for position, (name, quantity, price, tax, frequency) in enumerate(lines):
        LineItem.objects.create(
            quote=quote,
            position=position,
            name=name,
            quantity=Decimal(quantity),
            unit_price=Decimal(price),
            currency=currency,
            tax_rate=TaxRate.objects.get(name=tax) if tax else None,
            frequency=frequency,
        )
    return quote


def published(actor=None, **kwargs):
    quote = quote_make(owner=actor, **kwargs)
    publication = quote_publish(quote=quote, actor=actor)
    quote.refresh_from_db()
    return quote, publication


def last_code(to: str) -> str:
    """The code in the newest signing code email to `to`."""
    email = OutgoingEmail.objects.filter(to=to, subject__icontains="code").order_by("-id").first()
    assert email is not None, f"no code email to {to}"
    # Already sent (tasks run eagerly): the stored text is cleared, the message is in the test outbox.
    text = email.text or next(m.body for m in reversed(mail.outbox) if m.to == [to] and "code" in m.subject)
    return re.search(r"\b(\d{6})\b", text).group(1)


def code_for(publication, signer: QuoteSigner) -> str:
    signing_code_send(publication=publication, signer_id=signer.pk)
    return last_code(signer.email)


def verified(publication, signer: QuoteSigner) -> QuoteSigner:
    return signing_code_verify(publication=publication, signer_id=signer.pk, code=code_for(publication, signer))


def sign(publication, signer: QuoteSigner, *, name=None, kind="typed", image="", sha=None, ip=IP, ua=UA):
    """Verify the signer's email with a fresh code and sign, as the hosted page does."""
    signer = verified(publication, signer)
    return quote_sign(
        publication=publication,
        signer_id=signer.pk,
        verified_at=signer.verified_at.isoformat(),
        kind=kind,
        name=name or signer.name,
        image=image,
        pdf_sha256=sha or publication.pdf_sha256,
        agreed=True,
        ip_address=ip,
        user_agent=ua,
    )


def drawn_signature(size=(300, 100)) -> str:
    """A PNG like signature_pad's: a stroke on a transparent canvas, as a data URI."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(10, 70), (80, 20), (150, 80), (280, 30)], fill=(17, 24, 39, 255), width=4)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def clear_mail():
    mail.outbox.clear()


def host(client_host="alpha.localhost"):
    from django.test import Client

    return Client(HTTP_HOST=client_host)
