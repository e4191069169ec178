"""Reads of a quote's pages: what stands in the way of publishing it, its record page (the document as it stands or
as published, timeline, revisions, signers, invoices and subscriptions made from it) and its status words.

The document itself is billing.quote_documents' (one builder for the preview, the hosted page, the PDF and the
published snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing import pricing
from billing.models import (
    Invoice,
    LineItem,
    Quote,
    QuoteEvent,
    QuoteInstallment,
    QuotePublication,
    QuoteSigner,
    QuoteStatus,
    Subscription,
)
from billing.quote_documents import quote_document, quote_lines
from billing.selectors.quote_hosted import quote_document_for_display
from commerce_hub.organization.selectors import organization_profile_get

_L = gettext_lazy

STATUS_BADGES = {
    QuoteStatus.DRAFT: "badge-muted",
    QuoteStatus.PENDING_APPROVAL: "stage-open",
    QuoteStatus.APPROVED: "stage-open",
    QuoteStatus.PUBLISHED: "stage-open",
    QuoteStatus.VIEWED: "stage-open",
    QuoteStatus.SIGNED: "badge-ok",
    QuoteStatus.ACCEPTED: "badge-ok",
    QuoteStatus.PAID: "badge-ok",
    QuoteStatus.DECLINED: "stage-lost",
    QuoteStatus.EXPIRED: "badge-muted",
}

# The builder's steps in order: (key, title). The record page and the builder link to them by key.
STEPS = [
    ("details", _L("Details")),
    ("parties", _L("Buyer and sender")),
    ("lines", _L("Line items")),
    ("summary", _L("Discounts, fees and taxes")),
    ("schedule", _L("Payment schedule")),
    ("options", _L("Signature and payment")),
    ("terms", _L("Comments and terms")),
    ("review", _L("Review")),
]
STEP_KEYS = [key for key, _label in STEPS]

_EDITED = {
    "details": _L("Details edited"),
    "parties": _L("Buyer and sender changed"),
    "options": _L("Signature and payment options changed"),
    "terms": _L("Comments and terms edited"),
}
_EVENTS = {
    "created": _L("Quote created"),
    "approval_requested": _L("Submitted for approval"),
    "approved": _L("Approved"),
    "approval_rejected": _L("Approval rejected"),
    "published": _L("Published"),
    "unpublished": _L("Unpublished to make a new revision"),
    "viewed": _L("Viewed by the buyer"),
    "signed": _L("Signed by everyone"),
    "accepted": _L("Accepted"),
    "paid": _L("Paid"),
    "declined": _L("Declined by the buyer"),
    "expired": _L("Expired"),
    "converted": _L("Converted to an invoice"),
}


def status_label(status: str) -> str:
    return str(QuoteStatus(status).label) if status in QuoteStatus.values else status


def quote_event_label(event: QuoteEvent) -> str:
    """One timeline entry in words. Kinds this module does not know (a feature added later) still read well."""
    if event.kind == "edited":
        return str(_EDITED.get((event.data or {}).get("step"), _("Edited")))
    if event.kind == "signature_added":
        signer = (event.data or {}).get("signer")
        return _("Signed by %(signer)s") % {"signer": signer} if signer else _("A signer signed")
    if event.kind in _EVENTS:
        return str(_EVENTS[event.kind])
    if event.to_status:
        return _("Status changed to %(status)s") % {"status": status_label(event.to_status)}
    return event.kind.replace("_", " ").capitalize()


# --- the document -----------------------------------------------------------------------------------------------------


def _displayed(document: dict, language: str) -> dict:
    """The document as its buyer reads it: in the quote's language, whoever looks at it."""
    with translation.override(language):
        return quote_document_for_display(document)


def quote_publish_problems(quote: Quote, *, document: dict | None = None, lines: list[LineItem] | None = None):
    """What stands in the way of publishing the quote as it stands (empty: it can be published). Approval is the
    approvals feature's own check."""
    lines = quote_lines(quote) if lines is None else lines
    problems: list[str] = []
    if not lines:
        problems.append(_("Add at least one line item."))
    if document is None and lines:
        try:
            document = quote_document(quote, lines=lines, issue_date=timezone.localdate())
        except pricing.PricingError as exc:
            problems.append(_("Some line items cannot be priced: %(reason)s") % {"reason": exc})
    contacts = list(quote.contacts.order_by("last_name", "first_name", "id"))
    if quote.company_id is None and not contacts:
        problems.append(_("Choose the buyer: a company or a contact."))
    if quote.expires_on < timezone.localdate():
        problems.append(_("The expiration date has passed: choose a later one."))
    if quote.signature_required:
        if not contacts:
            problems.append(_("Add a buyer contact: the buyer's contacts sign the quote."))
        for contact in contacts:
            if not contact.email:
                problems.append(
                    _("%(name)s has no email address; every buyer contact signs the quote.")
                    % {"name": contact.full_name}
                )
        emails = [c.email.lower() for c in contacts if c.email]
        emails += [u.email.lower() for u in quote.countersigners.all() if u.email]
        for email in sorted({e for e in emails if emails.count(e) > 1}):
            problems.append(_("%(email)s is listed twice as a signer; each person signs once.") % {"email": email})
    if quote.payment_enabled and not quote.payment_methods:
        problems.append(_("Choose how the buyer can pay, or do not collect payment."))
    if document is not None:
        if Decimal(document["total"]) < 0:
            problems.append(_("The total cannot be negative."))
        if document["reverse_charge"] and not document["buyer"]["vat_number"]:
            problems.append(_("Reverse-charge VAT needs the buyer's VAT number: add it to the company."))
    if not organization_profile_get().legal_name:
        problems.append(_("Add your company's legal name in Settings → Company profile."))
    return problems


# --- the record page --------------------------------------------------------------------------------------------------


@dataclass
class QuotePage:
    quote: Quote
    status_label: str
    badge: str
    events: list[QuoteEvent]
    publications: list[QuotePublication]
    invoices: list[Invoice]
    subscriptions: list[Subscription]
    installments: list[QuoteInstallment]
    document: dict | None  # None while a line cannot be priced
    document_problem: str = ""
    problems: list[str] = field(default_factory=list)  # what blocks publishing, while the quote is editable
    is_snapshot: bool = False  # the document is the published revision's, exactly as the buyer sees it


def quote_page(quote: Quote) -> QuotePage:
    events = list(QuoteEvent.objects.filter(quote=quote).select_related("actor").order_by("-at", "-id"))
    for event in events:
        event.label = quote_event_label(event)
    publications = list(
        QuotePublication.objects.filter(quote=quote)
        .defer("snapshot")
        .select_related("published_by")
        .prefetch_related(Prefetch("signers", queryset=QuoteSigner.objects.select_related("contact", "user")))
        .order_by("-revision")
    )
    invoices = list(
        Invoice.objects.filter(Q(source_quote=quote) | Q(checkout_for_quote=quote))
        .defer("snapshot")
        .distinct()
        .order_by("created_at", "id")
    )
    subscriptions = list(Subscription.objects.filter(source_quote=quote).order_by("start_date", "id"))
    installments = list(QuoteInstallment.objects.filter(quote=quote).order_by("position", "id"))
    document, problem, is_snapshot = None, "", False
    snapshot = quote.publication.snapshot if quote.publication_id and not quote.is_editable else None
    if isinstance(snapshot, dict) and snapshot.get("kind") == "quote":
        document, is_snapshot = snapshot, True
    lines = quote_lines(quote)
    if document is None and lines:
        try:
            document = quote_document(quote, lines=lines, issue_date=timezone.localdate())
        except pricing.PricingError as exc:
            problem = _("Some line items cannot be priced: %(reason)s") % {"reason": exc}
    return QuotePage(
        quote=quote,
        status_label=status_label(quote.status),
        badge=STATUS_BADGES.get(quote.status, ""),
        events=events,
        publications=publications,
        invoices=invoices,
        subscriptions=subscriptions,
        installments=installments,
        document=_displayed(document, quote.language) if document else None,
        document_problem=problem,
        # The live document priced above is reused: the checks would otherwise build and price it a second time.
        problems=quote_publish_problems(quote, lines=lines, document=None if is_snapshot else document)
        if quote.is_editable
        else [],
        is_snapshot=is_snapshot,
    )


# --- the deal's timeline ----------------------------------------------------------------------------------------------


def deal_quote_events(deal, *, before, limit: int) -> list[QuoteEvent]:
    """The state changes (and creation) of the deal's quotes, newest first, at or before `before`."""
    qs = QuoteEvent.objects.filter(Q(to_status__gt="") | Q(kind="created"), quote__deal=deal).select_related(
        "quote", "actor"
    )
    if before is not None:
        qs = qs.filter(at__lte=before)
    events = list(qs.order_by("-at", "-id")[:limit])
    for event in events:
        event.label = quote_event_label(event)
    return events
