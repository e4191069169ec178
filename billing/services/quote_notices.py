"""Emails about a published quote: the link to the buyer contacts, a request to sign when it is someone's turn, the
one-time signing code, the signed copy to everyone once all have signed, and the sender told when the buyer accepts
or declines. Each is stored in the caller's transaction and sent after it commits (commerce_hub.mail); PDFs are
attached when the email goes out, from storage.

Buyers read the quote's language; the seller's people (countersigners, the sender) their own.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from billing.models import Quote, QuotePublication, QuoteSigner
from billing.quote_pdf import publication_pdf_bytes, signed_pdf_bytes
from commerce_hub.mail import attachment_provider, email_queue
from commerce_hub.site_urls import current_tenant_url

PDF = "application/pdf"


def quote_hosted_url(publication: QuotePublication) -> str:
    return current_tenant_url(reverse("billing:quote_hosted", args=[publication.token]))


def quote_record_url(quote: Quote) -> str:
    """The quote's record page for the seller's people (its deal's page where the quote kind has none)."""
    from billing.editor import owner_kind_get

    try:
        path = owner_kind_get("quote").detail_url(quote)
    except (KeyError, NoReverseMatch):
        path = reverse("crm:deal_detail", args=[quote.deal_id])
    return current_tenant_url(path)


def _file_name(publication: QuotePublication, *, signed: bool = False) -> str:
    number = publication.snapshot.get("number") or "quote"
    suffix = "-signed" if signed else ""
    return f"{number}{suffix}.pdf" if publication.revision <= 1 else f"{number}-r{publication.revision}{suffix}.pdf"


@attachment_provider("billing.quote_pdf")
def _quote_pdf(publication_id) -> tuple[str, bytes, str]:
    publication = QuotePublication.objects.get(pk=publication_id)
    return _file_name(publication), publication_pdf_bytes(publication), PDF


@attachment_provider("billing.quote_signed_pdf")
def _quote_signed_pdf(publication_id) -> tuple[str, bytes, str]:
    publication = QuotePublication.objects.get(pk=publication_id)
    return _file_name(publication, signed=True), signed_pdf_bytes(publication), PDF


def _context(quote: Quote, publication: QuotePublication, **extra) -> dict:
    document = publication.snapshot
    return {
        "quote": quote,
        "publication": publication,
        "document": document,
        "seller_name": document.get("seller", {}).get("legal_name", ""),
        "sender_name": document.get("sender", {}).get("name", ""),
        "hosted_url": quote_hosted_url(publication),
        **extra,
    }


def _reply_to(publication: QuotePublication) -> str:
    return publication.snapshot.get("sender", {}).get("email", "")


def quote_link_emails_queue(*, quote: Quote, publication: QuotePublication) -> list[str]:
    """The published quote's link and PDF to every buyer contact with an email address."""
    from billing.quote_documents import quote_buyer_contacts

    sent = []
    for contact in quote_buyer_contacts(quote):
        if not contact.email or contact.email.lower() in sent:
            continue
        email_queue(
            to=contact.email,
            name="quote-published",
            language=quote.language,
            context=_context(quote, publication, recipient_name=contact.full_name),
            attachments=[{"provider": "billing.quote_pdf", "id": publication.pk}],
            reply_to=_reply_to(publication),
        )
        sent.append(contact.email.lower())
    return sent


def _signer_language(quote: Quote, signer: QuoteSigner) -> str:
    return signer.user.language if signer.user_id and signer.user else quote.language


def sign_request_queue(*, quote: Quote, publication: QuotePublication, signer: QuoteSigner) -> None:
    """Tell a signer it is their turn to sign."""
    email_queue(
        to=signer.email,
        name="quote-sign-request",
        language=_signer_language(quote, signer),
        context=_context(quote, publication, recipient_name=signer.name, signer=signer),
        reply_to=_reply_to(publication),
    )


def signing_code_queue(*, quote: Quote, publication: QuotePublication, signer: QuoteSigner, code: str, minutes: int):
    """The one-time code that proves the signer reads this mailbox."""
    return email_queue(
        to=signer.email,
        name="quote-signing-code",
        language=_signer_language(quote, signer),
        context=_context(quote, publication, recipient_name=signer.name, code=code, minutes=minutes),
    )


def signed_copies_queue(*, quote: Quote, publication: QuotePublication, signers: list[QuoteSigner]) -> list[str]:
    """The signed PDF to every signer and to the quote's sender, once each."""
    recipients: list[tuple[str, str, str]] = [(s.email, s.name, _signer_language(quote, s)) for s in signers]
    if quote.owner is not None and quote.owner.email:
        recipients.append((quote.owner.email, quote.owner.full_name, quote.owner.language))
    sent: list[str] = []
    for email, name, language in recipients:
        if email.lower() in sent:
            continue
        email_queue(
            to=email,
            name="quote-signed",
            language=language,
            context=_context(quote, publication, recipient_name=name, signers=signers),
            attachments=[{"provider": "billing.quote_signed_pdf", "id": publication.pk}],
            reply_to=_reply_to(publication),
        )
        sent.append(email.lower())
    return sent


def quote_owner_notice_queue(*, quote: Quote, template: str, **extra) -> None:
    """Tell the quote's sender what the buyer did ("quote-accepted", "quote-declined")."""
    owner = quote.owner
    if owner is None or not owner.email or quote.publication_id is None:
        return
    publication = quote.publication
    email_queue(
        to=owner.email,
        name=template,
        language=owner.language,
        context=_context(
            quote, publication, recipient_name=owner.full_name, record_url=quote_record_url(quote), **extra
        ),
    )
