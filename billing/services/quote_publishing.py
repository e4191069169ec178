"""Publishing a quote and what the buyer does with the published page (view, accept, decline), and its expiry.

Publishing freezes a revision: it checks approval and completeness, numbers the quote on its first publication
(its own gap-free series, Q-1001), builds the document, renders and stores its PDF with the SHA-256 of the stored
bytes, and writes a QuotePublication under a new token of 256 random bits, with the signers in signing order (the
buyer contacts, then the countersigners). The quote is then locked: changing it unpublishes it (back to draft; the
publication is marked replaced and its link says so) and the next publication is the next revision.

Every state change is a guarded transition (billing.services.quote_records.quote_transition) taken under the
quote's row lock, so the buyer, the rep and the expiry job never overwrite each other.
"""

from __future__ import annotations

import secrets
from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import events, pricing
from billing.models import (
    NumberSeries,
    Quote,
    QuoteEvent,
    QuoteInstallment,
    QuotePublication,
    QuoteSigner,
    QuoteStatus,
    SignerRole,
)
from billing.models.quotes import EXPIRABLE_STATUSES
from billing.quote_documents import quote_document, quote_lines, quote_schedule_rows, quote_signer_rows, quote_summary
from billing.quote_payment_plan import quote_checkout_problems, schedule_line_problems
from billing.quote_pdf import pdf_store, publication_pdf_name, quote_document_pdf, sha256_hex
from billing.selectors.quote_approvals import quote_approval_required
from billing.selectors.quote_hosted import (
    BUYER_ACTIONABLE,
    publication_refusal,
    signer_turn_reason,
    tenant_today,
)
from billing.services.numbering import number_take
from billing.services.quote_checkout import quote_checkout_release
from billing.services.quote_notices import quote_link_emails_queue, quote_owner_notice_queue, sign_request_queue
from billing.services.quote_records import (
    QuoteStateError,
    quote_lock,
    quote_status_message,
    quote_transition,
)
from commerce_hub.accounts.models import AuditEntry
from commerce_hub.events.services import event_emit, events_emit

PUBLISHABLE = (QuoteStatus.DRAFT, QuoteStatus.APPROVED)
# A published quote goes back to draft to be changed; so does one the buyer declined or that expired, to be revised
# and published again. A signed, accepted or paid quote is an agreement and stays as it is.
UNPUBLISHABLE = (QuoteStatus.PUBLISHED, QuoteStatus.VIEWED, QuoteStatus.DECLINED, QuoteStatus.EXPIRED)
# Past its expiration date a quote expires unless the buyer already signed, accepted, paid or declined it.
EXPIRABLE = EXPIRABLE_STATUSES
EXPIRE_BATCH = 500
DECLINE_REASON_MAX = 2000
NAME_MAX = 200


# --- publishing -------------------------------------------------------------------------------------------------------


def quote_approval_reasons(quote: Quote) -> list[str]:
    """Why the quote needs an approver's approval before it is published (empty: it needs none)."""
    return list(quote_approval_required(quote))


def quote_publish_problems(quote: Quote, *, lines=None) -> list[str]:
    """What stands in the way of publishing the quote as it stands (empty: it can be published)."""
    from billing.selectors.quotes import quote_publish_problems as problems_of

    problems = list(problems_of(quote, lines=lines))
    if quote.expires_on < tenant_today():
        message = _("The expiration date has passed: choose a later one.")
        if message not in problems:
            problems.append(message)
    return problems


def quote_schedule_problems(quote: Quote, lines, summary) -> list[str]:
    """Why the quote's payment schedule cannot be published as it is: its lines changed since it was set (recurring
    lines, later billing starts, a total the installments no longer add up to)."""
    if not QuoteInstallment.objects.filter(quote=quote).exists():
        return []
    problems = schedule_line_problems(lines, today=tenant_today())
    _rows, split_problems = quote_schedule_rows(quote, summary)
    return problems + split_problems


@transaction.atomic
def quote_publish(*, quote: Quote, actor, notify: bool = True) -> QuotePublication:
    """Publish the quote's next revision: hosted page, PDF and signers. With `notify`, the buyer contacts get the
    link by email (and countersigners a request to sign, when it is their turn) after commit.

    The number is taken only after everything that can refuse has run, and the PDF (which prints the number) is
    rendered while the series' row lock is held: a few hundred milliseconds on a first publication only, the price
    of numbers without gaps (a failed render rolls the counter back)."""
    quote = quote_lock(quote)
    if quote.status not in PUBLISHABLE:
        raise QuoteStateError(quote_status_message(quote))
    reasons = quote_approval_reasons(quote)
    if reasons:
        raise ValidationError([_("This quote needs an approver's approval before it can be published."), *reasons])
    lines = quote_lines(quote)
    problems = quote_publish_problems(quote, lines=lines)
    if problems:
        raise ValidationError(problems)
    try:
        summary = quote_summary(quote, lines)
    except pricing.PricingError as exc:
        raise ValidationError(_("Some line items cannot be priced: %(reason)s") % {"reason": exc}) from exc
    schedule_problems = quote_schedule_problems(quote, lines, summary)
    # What the buyer's checkout must be able to bill (a line due at checkout, installment dates still ahead).
    schedule_problems += [p for p in quote_checkout_problems(quote, today=tenant_today()) if p not in schedule_problems]
    if schedule_problems:
        raise ValidationError(schedule_problems)
    today = tenant_today()
    revision = quote.revision + 1
    number, sequence = quote.number, quote.sequence
    if number is None:
        number, sequence = number_take(key=NumberSeries.QUOTE)
    token = secrets.token_urlsafe(32)  # 256 random bits
    document = quote_document(
        quote, issue_date=today, number=number, revision=revision, lines=lines, summary=summary, freeze_logo=True
    )
    pdf = quote_document_pdf(document)
    path = pdf_store(publication_pdf_name(number=number, revision=revision, token=token), pdf)
    try:
        # The hash of what was stored, read back: the exact bytes a signer later signs.
        with default_storage.open(path, "rb") as fh:
            digest = sha256_hex(fh.read())
        publication = QuotePublication.objects.create(
            quote=quote,
            revision=revision,
            token=token,
            snapshot=document,
            pdf_path=path,
            pdf_sha256=digest,
            published_by=actor if getattr(actor, "pk", None) else None,
        )
        QuoteSigner.objects.bulk_create(
            [
                QuoteSigner(
                    publication=publication,
                    role=row["role"],
                    position=position,
                    contact_id=row.get("contact_id"),
                    user_id=row.get("user_id"),
                    name=row["name"][:NAME_MAX],
                    email=row["email"],
                )
                for position, row in enumerate(quote_signer_rows(quote))
            ]
        )
        quote = quote_transition(
            quote,
            to=QuoteStatus.PUBLISHED,
            allowed_from=PUBLISHABLE,
            actor=actor,
            kind="published",
            event=events.QUOTE_PUBLISHED,
            fields={
                "number": number,
                "sequence": sequence,
                "revision": revision,
                "publication": publication,
                "total": summary.total,
            },
            revision=revision,
        )
        if notify:
            quote_link_emails_queue(quote=quote, publication=publication)
            signers = list(publication.signers.order_by("position", "id"))
            for signer in signers:
                if signer.role == SignerRole.COUNTERSIGNER and signer_turn_reason(quote, signers, signer) == "":
                    sign_request_queue(quote=quote, publication=publication, signer=signer)
    except BaseException:
        # The transaction rolls back; the stored file must go with it (a failure after this block, in a caller's
        # transaction, leaves an unreferenced file under a secret name, never a wrong one).
        default_storage.delete(path)
        raise
    return publication


@transaction.atomic
def quote_unpublish(*, quote: Quote, actor) -> Quote:
    """Take a published (or declined, or expired) quote back to draft so it can be changed; its publication is
    marked replaced, so the old link says so and nobody can sign it any more. The next publication is a new
    revision with a new link."""
    quote = quote_lock(quote)
    if quote.status not in UNPUBLISHABLE:
        raise QuoteStateError(quote_status_message(quote))
    now = timezone.now()
    if quote.publication_id:
        QuotePublication.objects.filter(pk=quote.publication_id, replaced_at__isnull=True).update(replaced_at=now)
    # An unpaid checkout invoice billed the old content: void it, so the new revision's checkout bills the new one.
    quote_checkout_release(quote=quote, actor=actor)
    return quote_transition(
        quote,
        to=QuoteStatus.DRAFT,
        allowed_from=UNPUBLISHABLE,
        actor=actor,
        kind="unpublished",
        event=events.QUOTE_UNPUBLISHED,
        revision=quote.revision,
    )


# --- the buyer on the published page ----------------------------------------------------------------------------------


def publication_lock_live(publication: QuotePublication) -> tuple[Quote, QuotePublication]:
    """The quote locked and the publication as they are now; QuoteStateError when the buyer can no longer act."""
    quote = quote_lock(publication.quote)
    publication = QuotePublication.objects.get(pk=publication.pk)
    refusal = publication_refusal(quote, publication)
    if refusal:
        raise QuoteStateError(refusal)
    return quote, publication


def quote_viewed(*, publication: QuotePublication) -> bool:
    """The buyer opened the published page: the first view of a revision moves it from published to viewed. False
    when nothing changed (viewed before, replaced, or no longer open)."""
    quote = publication.quote
    if quote.status != QuoteStatus.PUBLISHED or quote.publication_id != publication.pk:
        return False
    with transaction.atomic():
        touched = Quote.objects.filter(pk=quote.pk, status=QuoteStatus.PUBLISHED, publication=publication).exists()
        if not touched:
            return False
        try:
            quote_transition(
                quote,
                to=QuoteStatus.VIEWED,
                allowed_from=[QuoteStatus.PUBLISHED],
                actor=None,
                kind="viewed",
                event=events.QUOTE_VIEWED,
                revision=publication.revision,
            )
        except QuoteStateError:  # another request recorded the first view at the same moment
            return False
    return True


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": [_("Type your full name.")]})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": [_("Keep your name under %(max)d characters.") % {"max": NAME_MAX}]})
    return name


@transaction.atomic
def quote_accept(
    *, publication: QuotePublication, name: str, agreed: bool, ip_address: str | None, user_agent: str
) -> Quote:
    """The buyer accepts a quote that needs no signature, under their typed name."""
    quote, publication = publication_lock_live(publication)
    if quote.signature_required:
        raise QuoteStateError(_("This quote is accepted by signing it."))
    name = _clean_name(name)
    if not agreed:
        raise ValidationError({"agree": [_("Tick the box to accept the quote.")]})
    quote = quote_transition(
        quote,
        to=QuoteStatus.ACCEPTED,
        allowed_from=BUYER_ACTIONABLE,
        actor=None,
        kind="accepted",
        event=None,
        revision=publication.revision,
        signer=name,
        ip_address=ip_address or "",
        user_agent=(user_agent or "")[:400],
        pdf_sha256=publication.pdf_sha256,
    )
    event_emit(
        name=events.QUOTE_ACCEPTED,
        payload={"id": quote.pk, "number": quote.number, "revision": publication.revision, "signer": name},
    )
    quote_owner_notice_queue(quote=quote, template="quote-accepted", buyer_name=name)
    return quote


@transaction.atomic
def quote_decline(*, publication: QuotePublication, reason: str) -> Quote:
    """The buyer declines the quote, saying why."""
    quote, publication = publication_lock_live(publication)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Tell the seller why you decline, so they can make a better offer.")]})
    if len(reason) > DECLINE_REASON_MAX:
        raise ValidationError(
            {"reason": [_("Keep the reason under %(max)s characters.") % {"max": f"{DECLINE_REASON_MAX:,}"}]}
        )
    quote = quote_transition(
        quote,
        to=QuoteStatus.DECLINED,
        allowed_from=BUYER_ACTIONABLE,
        actor=None,
        kind="declined",
        event=events.QUOTE_DECLINED,
        fields={"decline_reason": reason},
        revision=publication.revision,
        reason=reason,
    )
    quote_owner_notice_queue(quote=quote, template="quote-declined", reason=reason)
    return quote


# --- expiry -----------------------------------------------------------------------------------------------------------


def quotes_expire(*, today: date | None = None) -> list[int]:
    """Expire every quote past its expiration date that the buyer has not signed, accepted, paid or declined, in
    batches (one UPDATE per batch, events written in bulk). Rows another transaction holds (a signature being
    written) are skipped and reconsidered by the next run. Returns the ids expired."""
    today = today or tenant_today()
    expired: list[int] = []
    while True:
        with transaction.atomic():
            rows = list(
                Quote.objects.select_for_update(skip_locked=True)
                .filter(status__in=EXPIRABLE, expires_on__lt=today)
                .order_by("pk")
                .values_list("pk", "number", "status", "revision", "title")[:EXPIRE_BATCH]
            )
            if not rows:
                return expired
            now = timezone.now()
            Quote.objects.filter(pk__in=[row[0] for row in rows]).update(
                status=QuoteStatus.EXPIRED, expired_at=now, updated_at=now
            )
            QuoteEvent.objects.bulk_create(
                [
                    QuoteEvent(quote_id=pk, kind="expired", from_status=status, to_status=QuoteStatus.EXPIRED, at=now)
                    for pk, _number, status, _revision, _title in rows
                ]
            )
            AuditEntry.objects.bulk_create(
                [
                    AuditEntry(
                        action="quote.expired",
                        object_type=Quote._meta.label_lower,
                        object_id=str(pk),
                        object_repr=(number or title)[:200],
                        before={"status": status},
                        after={"status": QuoteStatus.EXPIRED.value},
                    )
                    for pk, number, status, _revision, title in rows
                ]
            )
            events_emit(
                name=events.QUOTE_EXPIRED,
                payloads=[{"id": pk, "number": number, "revision": revision} for pk, number, _s, revision, _t in rows],
            )
        expired += [row[0] for row in rows]
