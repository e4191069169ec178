"""E-signatures on a published quote.

1. A signer asks for a one-time code: six digits emailed to them, valid for 15 minutes. Only an HMAC of it is
   stored (keyed with the site's secret, the signer and the moment it was sent, so the hash alone does not reveal
   the code). A new code may be asked for once a minute and five times an hour.
2. They enter it: five wrong tries lock the code until a new one is sent; a right one is spent at once (it cannot be
   used twice) and marks the signer verified. The page that verified keeps the moment of verification in its
   session and must present it when signing, so a verification in one browser does not let another sign.
3. They sign, within 30 minutes, with a typed name or a drawn signature (a PNG from signature_pad, checked: PNG
   signature, at most 200 KB, a real image, not blank), confirming the SHA-256 of the PDF the page offered them.
   The server compares it with the hash recorded at publishing AND with the hash of the stored file: any mismatch
   refuses. The record keeps name, email, time, IP address, user agent and that hash.
4. When the last signer has signed, the signed copy (the published PDF's bytes followed by a certificate page) is
   stored, the quote moves to signed, and everyone gets it by email after commit.

Every step locks the quote's row first, so two signers finishing at the same moment are serialised: exactly one of
them sees everybody signed and makes the one "signed" transition.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import re
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing import events
from billing.models import QuoteEvent, QuotePublication, QuoteSigner, QuoteStatus, SignatureKind, SignerRole
from billing.quote_pdf import (
    QuotePdfMissing,
    pdf_append,
    pdf_store,
    publication_pdf_bytes,
    quote_certificate_pdf,
    sha256_hex,
    signed_pdf_name,
)
from billing.selectors.quote_hosted import BUYER_ACTIONABLE, signer_turn_reason, tenant_timezone
from billing.services.quote_notices import sign_request_queue, signed_copies_queue, signing_code_queue
from billing.services.quote_publishing import publication_lock_live
from billing.services.quote_records import QuoteStateError, quote_change_record, quote_event_add, quote_transition
from commerce_hub.events.services import event_emit

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=15)
CODE_RESEND_AFTER = timedelta(minutes=1)
CODES_PER_HOUR = 5
CODE_MAX_TRIES = 5
SIGNING_WINDOW = timedelta(minutes=30)
SIGNATURE_IMAGE_MAX_BYTES = 200 * 1024
SIGNATURE_IMAGE_MAX_SIDE = 4000
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URI_PREFIX = "data:image/png;base64,"
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
USER_AGENT_MAX = 400
NAME_MAX = 200


class SigningError(ValidationError):
    """A signing step refused for this signer (a wrong code, a locked code, not their turn, a bad signature)."""


def _code_hash(signer: QuoteSigner, code: str, sent_at: datetime) -> str:
    message = f"quote-signer:{signer.pk}:{signer.publication_id}:{sent_at.isoformat()}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _locked_signer(publication: QuotePublication, signer_id: int):
    """The quote and publication (locked, and still open to the buyer) and the signer's row; SigningError for a
    signer who is not on this publication."""
    quote, publication = publication_lock_live(publication)
    if not quote.signature_required:
        raise QuoteStateError(_("This quote needs no signature."))
    # Only the signer's row: the quote's lock above is what orders signers (no joins from the model's ordering).
    signer = (
        QuoteSigner.objects.select_for_update(of=("self",))
        .filter(publication=publication, pk=signer_id)
        .order_by()
        .first()
    )
    if signer is None:
        raise SigningError(_("This signer is not on the quote."))
    return quote, publication, signer


def _signers(publication: QuotePublication) -> list[QuoteSigner]:
    return list(QuoteSigner.objects.filter(publication=publication).order_by("position", "id"))


def _turn_check(quote, publication, signer) -> list[QuoteSigner]:
    signers = _signers(publication)
    current = next(s for s in signers if s.pk == signer.pk)
    reason = signer_turn_reason(quote, signers, current)
    if reason:
        raise SigningError(reason)
    return signers


# --- the one-time code ------------------------------------------------------------------------------------------------


@transaction.atomic
def signing_code_send(*, publication: QuotePublication, signer_id: int) -> QuoteSigner:
    """Email the signer a new one-time code (replacing any earlier one and its tries)."""
    quote, publication, signer = _locked_signer(publication, signer_id)
    _turn_check(quote, publication, signer)
    now = timezone.now()
    if signer.code_sent_at is not None and now - signer.code_sent_at < CODE_RESEND_AFTER:
        raise SigningError(
            _("A code was sent less than a minute ago. Check your inbox (and spam folder), or ask again in a minute.")
        )
    recent = QuoteEvent.objects.filter(
        quote=quote, kind="signing_code_sent", at__gte=now - timedelta(hours=1), data__signer_id=signer.pk
    ).count()
    if recent >= CODES_PER_HOUR:
        raise SigningError(_("Too many codes were asked for. Try again in an hour."))
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    signer.code_hash = _code_hash(signer, code, now)
    signer.code_sent_at = now
    signer.code_expires_at = now + CODE_TTL
    signer.code_attempts = 0
    signer.verified_at = None
    signer.save(update_fields=["code_hash", "code_sent_at", "code_expires_at", "code_attempts", "verified_at"])
    quote_event_add(quote=quote, kind="signing_code_sent", signer_id=signer.pk, revision=publication.revision)
    signing_code_queue(
        quote=quote, publication=publication, signer=signer, code=code, minutes=int(CODE_TTL.total_seconds() // 60)
    )
    return signer


def signing_code_verify(*, publication: QuotePublication, signer_id: int, code: str) -> QuoteSigner:
    """Check the code the signer typed. A wrong try is counted and committed even though the call then raises, so
    this must not run inside a caller's transaction (it is durable). Returns the signer, verified."""
    code = re.sub(r"\s+", "", code or "")
    if not re.fullmatch(rf"[0-9]{{{CODE_DIGITS}}}", code):
        raise SigningError({"code": [_("Enter the 6-digit code from the email.")]})
    error = ""
    with transaction.atomic(durable=True):
        quote, publication, signer = _locked_signer(publication, signer_id)
        _turn_check(quote, publication, signer)
        now = timezone.now()
        if signer.code_attempts >= CODE_MAX_TRIES:
            error = _("This code was entered wrongly too many times. Ask for a new code.")
        elif not signer.code_hash or signer.code_sent_at is None:
            error = _("There is no code to enter. Ask for a new code.")
        elif signer.code_expires_at is None or signer.code_expires_at <= now:
            error = _("This code has expired. Ask for a new code.")
        elif not hmac.compare_digest(signer.code_hash, _code_hash(signer, code, signer.code_sent_at)):
            signer.code_attempts += 1
            signer.save(update_fields=["code_attempts"])
            left = CODE_MAX_TRIES - signer.code_attempts
            if left:
                error = ngettext(
                    "That code is not right. You have %(count)d more try.",
                    "That code is not right. You have %(count)d more tries.",
                    left,
                ) % {"count": left}
            else:
                error = _("That code is not right, and it is now locked. Ask for a new code.")
        else:
            # Spent at once: the same code never verifies twice.
            signer.verified_at = now
            signer.code_hash = ""
            signer.code_expires_at = None
            signer.code_attempts = 0
            signer.save(update_fields=["verified_at", "code_hash", "code_expires_at", "code_attempts"])
            quote_event_add(quote=quote, kind="signer_verified", signer_id=signer.pk, revision=publication.revision)
    if error:
        raise SigningError({"code": [error]})
    return signer


# --- the signature ----------------------------------------------------------------------------------------------------


def signature_image_clean(data_uri: str) -> str:
    """A drawn signature as signature_pad sends it (a PNG data URI), checked; SigningError otherwise."""
    data_uri = (data_uri or "").strip()
    invalid = SigningError({"signature_image": [_("Draw your signature in the box.")]})
    if not data_uri.startswith(DATA_URI_PREFIX):
        raise invalid
    encoded = data_uri[len(DATA_URI_PREFIX) :]
    # Base64 is 4 characters per 3 bytes: refuse what cannot fit before decoding anything.
    if len(encoded) > (SIGNATURE_IMAGE_MAX_BYTES + 2) // 3 * 4:
        raise SigningError({"signature_image": [_("The drawing is too large. Clear it and draw it again.")]})
    try:
        content = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise invalid from None
    if len(content) > SIGNATURE_IMAGE_MAX_BYTES:
        raise SigningError({"signature_image": [_("The drawing is too large. Clear it and draw it again.")]})
    if not content.startswith(PNG_MAGIC):
        raise invalid
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
        with Image.open(io.BytesIO(content)) as image:
            if image.format != "PNG" or max(image.size) > SIGNATURE_IMAGE_MAX_SIDE or min(image.size) < 1:
                raise invalid
            # signature_pad draws on a transparent canvas: nothing opaque means nothing was drawn.
            drawn = image.convert("RGBA").getchannel("A").getbbox()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise invalid from None
    if drawn is None:
        raise invalid
    return DATA_URI_PREFIX + base64.b64encode(content).decode("ascii")


def _clean_signature(*, kind: str, name: str, image: str, agreed: bool) -> tuple[str, str, str]:
    errors: dict[str, list[str]] = {}
    name = " ".join((name or "").split())
    if not name:
        errors["signature_name"] = [_("Type your full name.")]
    elif len(name) > NAME_MAX:
        errors["signature_name"] = [_("Keep your name under %(max)d characters.") % {"max": NAME_MAX}]
    if kind not in SignatureKind.values:
        errors["signature_kind"] = [_("Choose to type or to draw your signature.")]
    if not agreed:
        errors["agree"] = [_("Tick the box to sign the quote electronically.")]
    cleaned_image = ""
    if kind == SignatureKind.DRAWN:
        try:
            cleaned_image = signature_image_clean(image)
        except SigningError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise SigningError(errors)
    return kind, name, cleaned_image


def _document_check(publication: QuotePublication, posted_sha256: str) -> bytes:
    """The published PDF's bytes, after checking that the page showed the signer this very file: the posted hash,
    the hash recorded at publishing and the hash of the stored file must all agree."""
    posted = (posted_sha256 or "").strip().lower()
    if not SHA256_HEX.fullmatch(posted) or not hmac.compare_digest(posted, publication.pdf_sha256):
        raise SigningError(
            _("The document changed since this page was opened. Reload the page, review the quote and sign again.")
        )
    try:
        original = publication_pdf_bytes(publication)
    except QuotePdfMissing:
        original = b""
    if not hmac.compare_digest(sha256_hex(original), publication.pdf_sha256):
        raise SigningError(
            _(
                "The stored document does not match the one that was published, so it cannot be signed. "
                "Ask the sender to publish the quote again."
            )
        )
    return original


@transaction.atomic
def quote_sign(
    *,
    publication: QuotePublication,
    signer_id: int,
    verified_at: str,
    kind: str,
    name: str,
    image: str = "",
    pdf_sha256: str,
    agreed: bool,
    ip_address: str | None,
    user_agent: str,
) -> QuoteSigner:
    """Record one signature; when it is the last one, complete the quote (signed copy, status, emails).

    `verified_at` is what the signer's own session kept from verifying the code (QuoteSigner.verified_at as ISO
    text): a signature needs a verification made in the same browser, at most 30 minutes ago."""
    quote, publication, signer = _locked_signer(publication, signer_id)
    signers = _turn_check(quote, publication, signer)
    now = timezone.now()
    if (
        signer.verified_at is None
        or not verified_at
        or not hmac.compare_digest(signer.verified_at.isoformat(), verified_at)
        or now - signer.verified_at > SIGNING_WINDOW
    ):
        raise SigningError(_("Confirm your email address with a new code before signing."))
    kind, name, image = _clean_signature(kind=kind, name=name, image=image, agreed=agreed)
    original = _document_check(publication, pdf_sha256)
    signer.signed_at = now
    signer.signature_kind = kind
    signer.signature_name = name
    signer.signature_image = image
    signer.ip_address = ip_address or None
    signer.user_agent = (user_agent or "")[:USER_AGENT_MAX]
    signer.pdf_sha256 = publication.pdf_sha256
    signer.code_hash = ""
    signer.save(
        update_fields=[
            "signed_at",
            "signature_kind",
            "signature_name",
            "signature_image",
            "ip_address",
            "user_agent",
            "pdf_sha256",
            "code_hash",
        ]
    )
    quote_change_record(
        quote,
        kind="signature_added",
        actor=signer.user if signer.role == SignerRole.COUNTERSIGNER else None,
        signer=signer.name,
        signer_id=signer.pk,
        email=signer.email,
        signature_name=name,
        signature_kind=kind,
        ip_address=signer.ip_address or "",
        user_agent=signer.user_agent,
        pdf_sha256=signer.pdf_sha256,
        revision=publication.revision,
    )
    event_emit(
        name=events.QUOTE_SIGNATURE_ADDED,
        payload={"id": quote.pk, "number": quote.number, "revision": publication.revision, "signer": signer.name},
    )
    signers = [signer if s.pk == signer.pk else s for s in signers]
    waiting = [s for s in signers if s.signed_at is None]
    if not waiting:
        _complete(quote, publication, signers, original)
    elif quote.signing_order == "fixed":
        sign_request_queue(quote=quote, publication=publication, signer=waiting[0])
    return signer


def _complete(quote, publication: QuotePublication, signers: list[QuoteSigner], original: bytes) -> None:
    """Everyone has signed: store the signed copy, move the quote to signed, email the copy to all."""
    certificate = quote_certificate_pdf(publication, signers, tz=tenant_timezone(), original=original)
    path = pdf_store(signed_pdf_name(publication), pdf_append(original, certificate))
    try:
        QuotePublication.objects.filter(pk=publication.pk).update(signed_pdf_path=path)
        publication.signed_pdf_path = path
        quote_transition(
            quote,
            to=QuoteStatus.SIGNED,
            allowed_from=BUYER_ACTIONABLE,
            actor=None,
            kind="signed",
            event=events.QUOTE_SIGNED,
            revision=publication.revision,
        )
        signed_copies_queue(quote=quote, publication=publication, signers=signers)
    except BaseException:
        default_storage.delete(path)
        raise
