"""Reads for the buyer's hosted quote page: the publication behind a link, what state the page is in, who may sign
now, and "today" as the seller's timezone counts it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from billing.models import Quote, QuotePublication, QuoteSigner, QuoteStatus, SigningOrder
from billing.models.choices import Frequency
from billing.pdf import _choice_label, _Format
from billing.quote_pdf import billing_start_text
from commerce_hub.organization.selectors import organization_profile_get

TOKEN_LENGTH = 43  # secrets.token_urlsafe(32): 256 random bits
# The buyer acts on a published page (views, signs, accepts, declines) in these states.
BUYER_ACTIONABLE = (QuoteStatus.PUBLISHED, QuoteStatus.VIEWED)


def tenant_timezone() -> ZoneInfo:
    return ZoneInfo(organization_profile_get().timezone)


def tenant_today() -> date:
    """Today where the seller is: a quote valid until a date is valid through that whole day in its timezone."""
    return timezone.localdate(timezone=tenant_timezone())


def publication_by_token(token: str) -> QuotePublication | None:
    """The publication behind a hosted link; None for anything that is not one of this tenant's tokens."""
    if not token or len(token) != TOKEN_LENGTH or not token.isascii():
        return None
    if not all(c.isalnum() or c in "-_" for c in token):
        return None
    return (
        QuotePublication.objects.select_related("quote", "quote__owner", "quote__publication")
        .filter(token=token)
        .first()
    )


def _date_text(value: date, language: str) -> str:
    with translation.override(language or "en"):
        return date_format(value, "DATE_FORMAT")


def is_replaced(quote: Quote, publication: QuotePublication) -> bool:
    return publication.replaced_at is not None or quote.publication_id != publication.pk


def is_expired(quote: Quote, today: date | None = None) -> bool:
    """Expired by the job, or past its date while the buyer could still act (before the job's next run)."""
    if quote.status == QuoteStatus.EXPIRED:
        return True
    return quote.status in BUYER_ACTIONABLE and quote.expires_on < (today or tenant_today())


def hosted_state(quote: Quote, publication: QuotePublication) -> str:
    """What the page shows: "replaced", "expired" or "declined" (it says so and offers nothing), "open" (review,
    sign or accept, decline), or "signed", "accepted", "paid" (agreed: the copy, and what features add)."""
    if is_replaced(quote, publication):
        return "replaced"
    if is_expired(quote):
        return "expired"
    if quote.status == QuoteStatus.DECLINED:
        return "declined"
    if quote.status in BUYER_ACTIONABLE:
        return "open"
    if quote.status in (QuoteStatus.SIGNED, QuoteStatus.ACCEPTED, QuoteStatus.PAID):
        return str(quote.status)
    return "replaced"  # back in draft or approval: the link no longer shows a live quote


def publication_refusal(quote: Quote, publication: QuotePublication) -> str:
    """Why the buyer can no longer act on this publication ("" when they can)."""
    state = hosted_state(quote, publication)
    if state == "replaced":
        return _("This quote was replaced by a newer version. Ask the sender for the new link.")
    if state == "expired":
        return _("This quote expired on %(date)s.") % {"date": _date_text(quote.expires_on, quote.language)}
    if state == "declined":
        return _("This quote was declined.")
    if state == "signed":
        return _("This quote has been signed.")
    if state == "accepted":
        return _("This quote has been accepted.")
    if state == "paid":
        return _("This quote has been paid.")
    return ""


def signer_turn_reason(quote: Quote, signers: list[QuoteSigner], signer: QuoteSigner) -> str:
    """Why `signer` cannot sign now ("" when they can): they signed already, or the quote fixes an order and someone
    before them has not signed yet."""
    if signer.signed_at is not None:
        return _("You have already signed this quote.")
    if quote.signing_order == SigningOrder.FIXED:
        waiting = [s for s in signers if (s.position, s.pk) < (signer.position, signer.pk) and s.signed_at is None]
        if waiting:
            return _("%(name)s signs first. You can sign once they have.") % {"name": waiting[0].name}
    return ""


def mask_email(email: str) -> str:
    """An address recognisable to its owner, not readable by anyone else with the link: k***@fjordline.example."""
    local, _at, domain = (email or "").partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


@dataclass
class HostedSigner:
    signer: QuoteSigner
    masked_email: str
    state: str  # "signed", "ready" (may sign now), "waiting" (someone signs first)
    reason: str


def publication_signers(publication: QuotePublication) -> list[QuoteSigner]:
    return list(QuoteSigner.objects.filter(publication=publication).order_by("position", "id"))


def hosted_signers(quote: Quote, publication: QuotePublication) -> list[HostedSigner]:
    signers = publication_signers(publication)
    rows = []
    for signer in signers:
        reason = signer_turn_reason(quote, signers, signer)
        state = "signed" if signer.signed_at else ("waiting" if reason else "ready")
        rows.append(HostedSigner(signer=signer, masked_email=mask_email(signer.email), state=state, reason=reason))
    return rows


# --- the document as the page shows it -------------------------------------------------------------------------------


def quote_document_for_display(document: dict) -> dict:
    """A publication's stored document for billing/invoices/_document.html and the hosted page, in the active
    language: dates as dates, and the words each recurring line needs (how often, from when)."""
    fmt = _Format(document["currency"])
    shown = dict(document)
    for key in ("issue_date", "expires_on"):
        if isinstance(shown.get(key), str):
            shown[key] = date.fromisoformat(shown[key])

    def recurring_words(row: dict) -> tuple[str, str]:
        frequency = row.get("frequency") or Frequency.ONE_TIME
        label = "" if frequency == Frequency.ONE_TIME else _choice_label(Frequency, frequency)
        return label, billing_start_text(row.get("billing_start"), fmt)

    shown["lines"] = []
    for line in document.get("lines", []):
        label, start = recurring_words(line)
        shown["lines"].append({**line, "extra_details": [text for text in (label, start) if text]})
    shown["recurring"] = []
    for row in document.get("recurring", []):
        label, start = recurring_words(row)
        shown["recurring"].append({**row, "frequency_label": label, "start_text": start})
    shown["installments"] = [
        {**row, "due_date": date.fromisoformat(row["due_date"]) if row.get("due_date") else None}
        for row in document.get("installments", [])
    ]
    return shown


# --- the rep's record page --------------------------------------------------------------------------------------------


def quote_signatures_panel(*, quote: Quote, user) -> dict | None:
    """What the signatures section of a quote's record page shows (templates/billing/quotes/_signers.html): the
    current (or last) publication, its buyer link and PDFs, and each signer with the audit record of their
    signature. None before the quote's first publication."""
    if not quote.publication_id:
        return None
    publication = QuotePublication.objects.filter(pk=quote.publication_id).defer("snapshot").first()
    if publication is None:
        return None
    signers = hosted_signers(quote, publication) if quote.signature_required or publication.signers.exists() else []
    state = hosted_state(quote, publication)
    return {
        "publication": publication,
        "state": state,
        "signers": signers,
        "signed_count": sum(1 for row in signers if row.state == "signed"),
        "hosted_url": reverse("billing:quote_hosted", args=[publication.token]) if state != "replaced" else "",
        "pdf_url": reverse("billing:quote_pdf", args=[quote.pk]),
        "signed": bool(publication.signed_pdf_path),
        # A countersigner signs on the buyer's page like everyone else, once it is their turn.
        "my_turn": any(row.state == "ready" and row.signer.user_id == getattr(user, "pk", None) for row in signers)
        and state == "open",
    }
