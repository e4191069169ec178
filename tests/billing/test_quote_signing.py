"""E-signatures on a published quote, as a buyer and an attacker would try them: the one-time code (forged, reused,
expired, tried a sixth time, asked for too often), the signature's audit record, the PDF hash check (a posted hash
that differs, a stored file that was altered), the order of signers, a second signature, a replaced revision, the
certificate page of the signed copy, and two signers finishing at the same moment."""

import base64
import hashlib
import io
import re
import time
from datetime import timedelta
from html.parser import HTMLParser

import pypdf
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from django_tenants.utils import tenant_context
from PIL import Image

from billing.models import QuoteEvent, QuotePublication, QuoteSigner, QuoteStatus
from billing.services import quote_signing
from billing.services.quote_publishing import quote_publish, quote_unpublish
from billing.services.quote_records import QuoteStateError
from billing.services.quote_signing import SigningError, quote_sign, signing_code_send, signing_code_verify
from commerce_hub.accounts.models import Role
from commerce_hub.events.models import OutboxEvent, OutgoingEmail
from tests.billing.invoicing import key
from tests.billing.quote_publishing_data import (  # noqa: F401 - media is a fixture
    IP,
    UA,
    buyer_with_contacts,
    code_for,
    drawn_signature,
    host,
    media,
    moved_clock,
    published,
    quote_make,
    sign,
    verified,
)
from tests.concurrency import in_threads
from tests.conftest import user_make


@pytest.fixture
def rep(tenant_alpha):
    return user_make(Role.SALES, full_name="Sam Sales", email="sam@alpha.example")


def two_buyers(**kwargs):
    company, contacts = buyer_with_contacts(
        ("Kari", "Nordmann", "kari@fjordline.example"), ("Ola", "Berg", "ola@fjordline.example")
    )
    return published(company=company, contacts=contacts, **kwargs)


def signers_of(publication) -> list[QuoteSigner]:
    return list(QuoteSigner.objects.filter(publication=publication).order_by("position", "id"))


def refused(fn, **kwargs) -> list[str]:
    with pytest.raises((SigningError, QuoteStateError)) as error:
        fn(**kwargs)
    return error.value.messages


def pdf_pages(data: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(data)).pages]


# --- the signature and its audit record -------------------------------------------------------------------------------


@pytest.mark.usefixtures("media")
def test_signing_through_the_page_records_the_exact_audit_fields(rep):
    quote, publication = published(actor=rep)
    signer = publication.signers.get()
    buyer = Client(HTTP_HOST="alpha.localhost", HTTP_USER_AGENT=UA, REMOTE_ADDR=IP)
    base = f"/billing/q/{publication.token}/signers/{signer.pk}"
    response = buyer.post(f"{base}/code/", key())
    assert response.status_code == 302 and response["Location"] == f"{base}/verify/"
    # Whoever holds the link sees the mailbox only as its owner recognises it.
    verify_page = buyer.get(f"{base}/verify/").content.decode()
    assert "We sent a code to k***@fjordline.example." in verify_page
    assert "kari@fjordline.example" not in verify_page
    email = OutgoingEmail.objects.get(to="kari@fjordline.example", subject="Your code to sign quote Q-1001")
    code = re.search(r"\b(\d{6})\b", email.text).group(1)
    signer.refresh_from_db()
    assert signer.code_hash and code not in signer.code_hash  # only a keyed hash of the code is kept
    assert signer.code_expires_at - signer.code_sent_at == timedelta(minutes=15)
    response = buyer.post(f"{base}/verify/", {"code": code})
    assert response.status_code == 302 and response["Location"] == f"{base}/sign/"
    form = buyer.get(f"{base}/sign/")
    assert form.status_code == 200 and form["Cache-Control"] == "no-store"
    assert f'name="pdf_sha256" value="{publication.pdf_sha256}"' in form.content.decode()
    before = timezone.now()
    response = buyer.post(
        f"{base}/sign/",
        {
            **key(),
            "signature_kind": "typed",
            "signature_name": "Kari Nordmann",
            "pdf_sha256": publication.pdf_sha256,
            "agree": "on",
        },
    )
    assert response.status_code == 302 and response["Location"] == f"/billing/q/{publication.token}/"
    signer.refresh_from_db()
    stored = default_storage.open(publication.pdf_path, "rb").read()
    assert (signer.name, signer.email, signer.signature_kind, signer.signature_name) == (
        "Kari Nordmann",
        "kari@fjordline.example",
        "typed",
        "Kari Nordmann",
    )
    assert (signer.ip_address, signer.user_agent) == (IP, UA)
    assert signer.pdf_sha256 == hashlib.sha256(stored).hexdigest() == publication.pdf_sha256
    assert before <= signer.signed_at <= timezone.now()
    assert signer.code_hash == ""
    event = QuoteEvent.objects.get(quote=quote, kind="signature_added")
    assert event.data == {
        "signer": "Kari Nordmann",
        "signer_id": signer.pk,
        "email": "kari@fjordline.example",
        "signature_name": "Kari Nordmann",
        "signature_kind": "typed",
        "ip_address": IP,
        "user_agent": UA,
        "pdf_sha256": publication.pdf_sha256,
        "revision": 1,
    }
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SIGNED  # the only signer


@pytest.mark.usefixtures("media")
def test_a_posted_hash_that_differs_from_the_published_pdf_is_refused(rep):
    quote, publication = published(actor=rep)
    signer = verified(publication, publication.signers.get())
    for wrong in ("0" * 64, publication.pdf_sha256.upper()[:-1], "", "not-a-hash"):
        assert refused(
            quote_sign,
            publication=publication,
            signer_id=signer.pk,
            verified_at=signer.verified_at.isoformat(),
            kind="typed",
            name="Kari Nordmann",
            pdf_sha256=wrong,
            agreed=True,
            ip_address=IP,
            user_agent=UA,
        ) == ["The document changed since this page was opened. Reload the page, review the quote and sign again."]
    signer.refresh_from_db()
    assert signer.signed_at is None and quote.status == QuoteStatus.PUBLISHED


@pytest.mark.usefixtures("media")
def test_a_stored_pdf_altered_after_publishing_is_refused(rep):
    _quote, publication = published(actor=rep)
    signer = verified(publication, publication.signers.get())
    original = default_storage.open(publication.pdf_path, "rb").read()
    default_storage.delete(publication.pdf_path)
    default_storage.save(publication.pdf_path, ContentFile(original.replace(b"Q-1001", b"Q-1009", 1) + b"\n"))
    assert refused(
        quote_sign,
        publication=publication,
        signer_id=signer.pk,
        verified_at=signer.verified_at.isoformat(),
        kind="typed",
        name="Kari Nordmann",
        pdf_sha256=publication.pdf_sha256,
        agreed=True,
        ip_address=IP,
        user_agent=UA,
    ) == [
        "The stored document does not match the one that was published, so it cannot be signed. "
        "Ask the sender to publish the quote again."
    ]
    signer.refresh_from_db()
    assert signer.signed_at is None


@pytest.mark.usefixtures("media")
def test_a_signature_needs_the_verification_of_this_browser_a_name_and_consent(rep):
    _quote, publication = published(actor=rep)
    signer = verified(publication, publication.signers.get())
    common = {
        "publication": publication,
        "signer_id": signer.pk,
        "pdf_sha256": publication.pdf_sha256,
        "ip_address": IP,
        "user_agent": UA,
    }
    verified_at = signer.verified_at.isoformat()
    assert refused(quote_sign, **common, verified_at="", kind="typed", name="Kari", agreed=True) == [
        "Confirm your email address with a new code before signing."
    ]
    with pytest.raises(SigningError) as error:
        quote_sign(**common, verified_at=verified_at, kind="scribble", name=" ", agreed=False)
    assert error.value.message_dict == {
        "signature_name": ["Type your full name."],
        "signature_kind": ["Choose to type or to draw your signature."],
        "agree": ["Tick the box to sign the quote electronically."],
    }
    # Another browser (no verification in its session) is sent back to the page.
    other = host()
    response = other.get(f"/billing/q/{publication.token}/signers/{signer.pk}/sign/")
    assert response.status_code == 302 and response["Location"] == f"/billing/q/{publication.token}/"


@pytest.mark.usefixtures("media")
def test_a_verification_older_than_30_minutes_does_not_sign(rep, monkeypatch):
    _quote, publication = published(actor=rep)
    signer = verified(publication, publication.signers.get())
    moved_clock(monkeypatch, signer.verified_at + timedelta(minutes=31))
    assert refused(
        quote_sign,
        publication=publication,
        signer_id=signer.pk,
        verified_at=signer.verified_at.isoformat(),
        kind="typed",
        name="Kari",
        pdf_sha256=publication.pdf_sha256,
        agreed=True,
        ip_address=IP,
        user_agent=UA,
    ) == ["Confirm your email address with a new code before signing."]


# --- the one-time code ------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("media")
def test_forged_codes_count_and_a_sixth_try_is_locked_until_a_new_code(rep, monkeypatch):
    _quote, publication = published(actor=rep)
    signer = publication.signers.get()
    code = code_for(publication, signer)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    messages = [
        refused(signing_code_verify, publication=publication, signer_id=signer.pk, code=wrong) for _ in range(5)
    ]
    assert messages == [
        ["That code is not right. You have 4 more tries."],
        ["That code is not right. You have 3 more tries."],
        ["That code is not right. You have 2 more tries."],
        ["That code is not right. You have 1 more try."],
        ["That code is not right, and it is now locked. Ask for a new code."],
    ]
    # The sixth try fails even with the right code.
    assert refused(signing_code_verify, publication=publication, signer_id=signer.pk, code=code) == [
        "This code was entered wrongly too many times. Ask for a new code."
    ]
    signer.refresh_from_db()
    assert signer.code_attempts == 5 and signer.verified_at is None
    moved_clock(monkeypatch, timezone.now() + timedelta(minutes=2))
    new_code = code_for(publication, signer)
    assert signing_code_verify(publication=publication, signer_id=signer.pk, code=new_code).verified_at is not None


@pytest.mark.usefixtures("media")
def test_a_code_verifies_once(rep):
    _quote, publication = published(actor=rep)
    signer = publication.signers.get()
    code = code_for(publication, signer)
    signing_code_verify(publication=publication, signer_id=signer.pk, code=f" {code[:3]} {code[3:]} ")
    assert refused(signing_code_verify, publication=publication, signer_id=signer.pk, code=code) == [
        "There is no code to enter. Ask for a new code."
    ]


@pytest.mark.usefixtures("media")
@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "12345\x00"])
def test_malformed_codes_are_refused_without_counting(rep, code):
    _quote, publication = published(actor=rep)
    signer = publication.signers.get()
    code_for(publication, signer)
    assert refused(signing_code_verify, publication=publication, signer_id=signer.pk, code=code) == [
        "Enter the 6-digit code from the email."
    ]
    signer.refresh_from_db()
    assert signer.code_attempts == 0


@pytest.mark.usefixtures("media")
def test_a_code_expires_after_15_minutes(rep, monkeypatch):
    _quote, publication = published(actor=rep)
    signer = publication.signers.get()
    code = code_for(publication, signer)
    signer.refresh_from_db()
    moved_clock(monkeypatch, signer.code_sent_at + timedelta(minutes=15, seconds=1))
    assert refused(signing_code_verify, publication=publication, signer_id=signer.pk, code=code) == [
        "This code has expired. Ask for a new code."
    ]


@pytest.mark.usefixtures("media")
def test_new_codes_once_a_minute_and_five_an_hour(rep, monkeypatch):
    _quote, publication = published(actor=rep)
    signer = publication.signers.get()
    start = timezone.now()
    signing_code_send(publication=publication, signer_id=signer.pk)
    assert refused(signing_code_send, publication=publication, signer_id=signer.pk) == [
        "A code was sent less than a minute ago. Check your inbox (and spam folder), or ask again in a minute."
    ]
    for minute in range(2, 6):
        moved_clock(monkeypatch, start + timedelta(minutes=minute))
        signing_code_send(publication=publication, signer_id=signer.pk)
    moved_clock(monkeypatch, start + timedelta(minutes=7))
    assert refused(signing_code_send, publication=publication, signer_id=signer.pk) == [
        "Too many codes were asked for. Try again in an hour."
    ]
    assert OutgoingEmail.objects.filter(to=signer.email, subject__contains="code").count() == 5


@pytest.mark.usefixtures("media")
def test_a_new_code_replaces_the_old_one(rep, monkeypatch):
    _quote, publication = published(actor=rep)
    signer = publication.signers.get()
    old = code_for(publication, signer)
    moved_clock(monkeypatch, timezone.now() + timedelta(minutes=2))
    new = code_for(publication, signer)
    if old != new:
        assert refused(signing_code_verify, publication=publication, signer_id=signer.pk, code=old)
    assert signing_code_verify(publication=publication, signer_id=signer.pk, code=new).verified_at is not None


# --- who may sign what ------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("media")
def test_signing_after_a_new_revision_is_refused(rep):
    quote, first = published(actor=rep)
    signer = verified(first, first.signers.get())
    quote_unpublish(quote=quote, actor=rep)
    quote_publish(quote=quote, actor=rep)
    kwargs = {
        "publication": first,
        "signer_id": signer.pk,
        "verified_at": signer.verified_at.isoformat(),
        "kind": "typed",
        "name": "Kari",
        "pdf_sha256": first.pdf_sha256,
        "agreed": True,
        "ip_address": IP,
        "user_agent": UA,
    }
    message = "This quote was replaced by a newer version. Ask the sender for the new link."
    assert refused(quote_sign, **kwargs) == [message]
    assert refused(signing_code_send, publication=first, signer_id=signer.pk) == [message]
    signer.refresh_from_db()
    assert signer.signed_at is None


@pytest.mark.usefixtures("media")
def test_the_same_signer_cannot_sign_twice(rep):
    quote, publication = two_buyers(actor=rep)
    kari, _ola = signers_of(publication)
    sign(publication, kari)
    assert refused(signing_code_send, publication=publication, signer_id=kari.pk) == [
        "You have already signed this quote."
    ]
    kari.refresh_from_db()
    assert refused(
        quote_sign,
        publication=publication,
        signer_id=kari.pk,
        verified_at=kari.verified_at.isoformat(),
        kind="typed",
        name="Kari again",
        pdf_sha256=publication.pdf_sha256,
        agreed=True,
        ip_address="198.51.100.1",
        user_agent="Other",
    ) == ["You have already signed this quote."]
    kari.refresh_from_db()
    assert (kari.signature_name, kari.ip_address) == ("Kari Nordmann", IP)
    assert QuoteEvent.objects.filter(quote=quote, kind="signature_added").count() == 1


@pytest.mark.usefixtures("media")
def test_a_fixed_order_lets_only_the_next_signer_sign(rep):
    countersigner = user_make(Role.ADMIN, full_name="Ada Admin", email="ada@alpha.example")
    _quote, publication = two_buyers(actor=rep, signing_order="fixed", countersigners=[countersigner])
    kari, ola, ada = signers_of(publication)
    # At publishing, only the buyers hear about the quote; the countersigner is not asked yet.
    assert not OutgoingEmail.objects.filter(to="ada@alpha.example").exists()
    for later in (ola, ada):
        assert refused(signing_code_send, publication=publication, signer_id=later.pk) == [
            "Kari Nordmann signs first. You can sign once they have."
        ]
    body = host().get(f"/billing/q/{publication.token}/").content.decode()
    assert body.count("email me a code") == 1 and "Kari Nordmann signs first" in body
    sign(publication, kari)
    assert OutgoingEmail.objects.filter(to="ola@fjordline.example", subject__startswith="Your signature").exists()
    assert refused(signing_code_send, publication=publication, signer_id=ada.pk) == [
        "Ola Berg signs first. You can sign once they have."
    ]
    sign(publication, ola)
    assert OutgoingEmail.objects.filter(to="ada@alpha.example", subject__startswith="Your signature").exists()
    sign(publication, ada)
    assert QuotePublication.objects.get(pk=publication.pk).quote.status == QuoteStatus.SIGNED


@pytest.mark.usefixtures("media")
def test_any_order_lets_each_signer_sign_and_waits_for_all(rep):
    quote, publication = two_buyers(actor=rep)
    kari, ola = signers_of(publication)
    sign(publication, ola)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PUBLISHED and not QuotePublication.objects.get(pk=publication.pk).signed_pdf_path
    sign(publication, kari)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SIGNED


@pytest.mark.usefixtures("media")
def test_signing_an_expired_quote_is_refused_before_the_job_runs(rep, monkeypatch):
    quote, publication = published(actor=rep, expires_in_days=1)
    signer = verified(publication, publication.signers.get())
    moved_clock(monkeypatch, timezone.now() + timedelta(days=2))
    messages = refused(
        quote_sign,
        publication=publication,
        signer_id=signer.pk,
        verified_at=signer.verified_at.isoformat(),
        kind="typed",
        name="Kari",
        pdf_sha256=publication.pdf_sha256,
        agreed=True,
        ip_address=IP,
        user_agent=UA,
    )
    assert len(messages) == 1 and messages[0].startswith("This quote expired on ")


# --- drawn signatures -------------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("media")
@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("", "Draw your signature in the box."),
        ("data:image/gif;base64,R0lGODlhAQABAAAAACw=", "Draw your signature in the box."),
        ("data:image/png;base64,not base64!", "Draw your signature in the box."),
        ("data:image/png;base64,R0lGODlhAQABAAAAACw=", "Draw your signature in the box."),  # a GIF called PNG
        ("data:image/png;base64," + "A" * 280000, "The drawing is too large. Clear it and draw it again."),
        ("blank", "Draw your signature in the box."),
        ("truncated", "Draw your signature in the box."),
    ],
)
def test_drawn_signatures_must_be_a_real_png_drawing_under_200_kb(rep, image, message):
    if image == "blank":  # a canvas nobody drew on
        buffer = io.BytesIO()
        Image.new("RGBA", (300, 100), (0, 0, 0, 0)).save(buffer, "PNG")
        image = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    elif image == "truncated":
        image = drawn_signature()[:200]
    _quote, publication = published(actor=rep)
    signer = verified(publication, publication.signers.get())
    with pytest.raises(SigningError) as error:
        quote_sign(
            publication=publication,
            signer_id=signer.pk,
            verified_at=signer.verified_at.isoformat(),
            kind="drawn",
            name="Kari Nordmann",
            image=image,
            pdf_sha256=publication.pdf_sha256,
            agreed=True,
            ip_address=IP,
            user_agent=UA,
        )
    assert error.value.message_dict == {"signature_image": [message]}


# --- everyone signed: the certificate ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("media")
def test_when_all_have_signed_the_pdf_gets_a_certificate_page_and_everyone_the_copy(rep):
    countersigner = user_make(Role.ADMIN, full_name="Ada Admin", email="ada@alpha.example")
    quote, publication = two_buyers(actor=rep, countersigners=[countersigner])
    kari, ola, ada = signers_of(publication)
    sign(publication, kari, kind="drawn", image=drawn_signature())
    sign(publication, ola, ip="198.51.100.23")
    sign(publication, ada, ua="Mozilla/5.0 (Macintosh) Countersign/2.0")
    publication.refresh_from_db()
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SIGNED and quote.signed_at is not None
    original = default_storage.open(publication.pdf_path, "rb").read()
    signed = default_storage.open(publication.signed_pdf_path, "rb").read()
    assert signed.startswith(original)  # the published bytes, unchanged, then the certificate
    original_pages = len(pypdf.PdfReader(io.BytesIO(original)).pages)
    pages = pdf_pages(signed)
    assert len(pages) == original_pages + 1
    certificate = pages[-1]
    assert "Signature certificate" in certificate and "Quote Q-1001, revision 1" in certificate
    assert publication.pdf_sha256 in certificate.replace(" ", "")
    for name, email, ip in [
        ("Kari Nordmann", "kari@fjordline.example", IP),
        ("Ola Berg", "ola@fjordline.example", "198.51.100.23"),
        ("Ada Admin", "ada@alpha.example", IP),
    ]:
        assert name in certificate and email in certificate and ip in certificate
    assert "Drawn signature of Kari Nordmann" in certificate and "Typed signature of Ola Berg" in certificate
    assert QuoteEvent.objects.filter(quote=quote, kind="signed", to_status="signed").count() == 1
    assert OutboxEvent.objects.filter(name="quote.signed", payload__id=quote.pk).count() == 1
    copies = OutgoingEmail.objects.filter(subject="Quote Q-1001 is signed").order_by("to")
    assert [e.to for e in copies] == [
        "ada@alpha.example",
        "kari@fjordline.example",
        "ola@fjordline.example",
        "sam@alpha.example",
    ]
    assert all(e.attachments == [{"provider": "billing.quote_signed_pdf", "id": publication.pk}] for e in copies)
    # The buyer's page offers the signed copy, and the attachment is that file.
    body = host().get(f"/billing/q/{publication.token}/").content.decode()
    assert "Download the signed PDF" in body and "email me a code" not in body
    response = host().get(f"/billing/q/{publication.token}/signed-pdf/")
    assert response.status_code == 200 and response.content == signed
    from commerce_hub.events.mail import _attachment_providers

    name, content, mimetype = _attachment_providers["billing.quote_signed_pdf"](publication.pk)
    assert (name, content, mimetype) == ("Q-1001-signed.pdf", signed, "application/pdf")


# --- at the same moment -----------------------------------------------------------------------------------------------


@pytest.fixture
def live_media(django_db_setup, settings, tmp_path):
    settings.STORAGES = settings.STORAGES | {
        "default": {"BACKEND": settings.STORAGES["default"]["BACKEND"], "OPTIONS": {"location": str(tmp_path)}}
    }


def test_two_signers_finishing_at_once_make_exactly_one_signed_transition(
    live_tenant, live_media, eager_tasks, monkeypatch
):
    # Each signer reads who has signed, then waits: without the quote's lock both would read "the other has not
    # signed yet" and neither would complete the quote.
    real_turn_check = quote_signing._turn_check

    def slow_turn_check(*args):
        result = real_turn_check(*args)
        time.sleep(0.3)
        return result

    monkeypatch.setattr(quote_signing, "_turn_check", slow_turn_check)
    company, contacts = buyer_with_contacts(
        ("Kari", "Nordmann", "kari@fjordline.example"), ("Ola", "Berg", "ola@fjordline.example")
    )
    quote = quote_make(company=company, contacts=contacts)
    publication = quote_publish(quote=quote, actor=None)
    signers = [verified(publication, signer) for signer in signers_of(publication)]

    def finish(n):
        signer = signers[n]
        try:
            # The real tenant, as a request has it (the emails link to its domain).
            with tenant_context(live_tenant):
                quote_sign(
                    publication=publication,
                    signer_id=signer.pk,
                    verified_at=signer.verified_at.isoformat(),
                    kind="typed",
                    name=signer.name,
                    pdf_sha256=publication.pdf_sha256,
                    agreed=True,
                    ip_address=IP,
                    user_agent=UA,
                )
        except Exception as exc:  # noqa: BLE001 - reported in the assertion below
            return repr(exc)
        return "signed"

    assert in_threads(2, finish) == ["signed", "signed"]
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.SIGNED
    assert QuoteEvent.objects.filter(quote=quote, kind="signed").count() == 1
    assert QuoteEvent.objects.filter(quote=quote, kind="signature_added").count() == 2
    assert OutboxEvent.objects.filter(name="quote.signed").count() == 1
    assert QuotePublication.objects.get(pk=publication.pk).signed_pdf_path


@pytest.mark.usefixtures("media")
def test_the_record_page_shows_each_signature_with_its_audit_record(rep):
    quote, publication = two_buyers(actor=rep)
    kari, _ola = signers_of(publication)
    sign(publication, kari)
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(rep)
    body = client.get(f"/billing/quotes/{quote.pk}/").content.decode()
    section = body[body.index('id="signatures"') :]
    section = section[: section.index("</section>")]
    assert "1 of 2 signed" in section
    assert "Kari Nordmann" in section and IP in section and UA in section
    assert publication.pdf_sha256[:17] in section
    assert "Ola Berg" in section and "Not signed yet" in section
    assert f'href="/billing/q/{publication.token}/"' in section
    assert f'href="/billing/quotes/{quote.pk}/pdf/?original=1"' in section


class _LabelledCells(HTMLParser):
    """What each <td data-label> holds directly: its child elements' tags, and any bare text beside them."""

    VOID = {"br", "img", "input", "hr", "wbr"}

    def __init__(self):
        super().__init__()
        self.cells: list[dict] = []
        self._depth = None  # elements open inside the current labelled cell; None outside one

    def handle_starttag(self, tag, attrs):
        if tag == "td" and "data-label" in dict(attrs):
            self.cells.append({"label": dict(attrs)["data-label"], "children": [], "text": ""})
            self._depth = 0
        elif self.cells and self._depth is not None:
            if self._depth == 0:
                self.cells[-1]["children"].append(tag)
            if tag not in self.VOID:
                self._depth += 1

    def handle_endtag(self, tag):
        if self._depth is None:
            return
        if tag == "td" and self._depth == 0:
            self._depth = None
        elif tag not in self.VOID:
            self._depth -= 1

    def handle_data(self, data):
        if self.cells and self._depth == 0:
            self.cells[-1]["text"] += data.strip()


@pytest.mark.usefixtures("media")
def test_each_cell_of_the_signatures_table_is_one_value_beside_its_label_on_a_phone(rep):
    """On a phone each row is a card of label and value pairs (a flex row: the label, then the cell's content). A
    cell whose name, badge, line break and email were separate children laid them out side by side, squashing the
    badge and cutting the email off at the card's edge; each cell holds one element."""
    quote, publication = two_buyers(actor=rep)
    kari, _ola = signers_of(publication)
    sign(publication, kari)
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(rep)
    body = client.get(f"/billing/quotes/{quote.pk}/").content.decode()
    section = body[body.index('id="signatures"') :]
    parser = _LabelledCells()
    parser.feed(section[: section.index("</section>")])
    assert [cell["label"] for cell in parser.cells] == ["Signer", "State", "Audit record"] * 2
    assert [(cell["children"], cell["text"]) for cell in parser.cells] == [(["span"], "")] * 6
