"""The traces every quote change leaves, and its one way to change state.

A state change is a conditional update (`filter(pk=..., status__in=allowed).update(...)` must touch one row), so two
requests racing for the same transition (two signers finishing at once, the expiry job and a buyer's payment) cannot
both win: the loser gets a QuoteStateError with the state it found. Each change appends a QuoteEvent, an audit row
and a domain event in the caller's transaction; the deal's timeline reads the QuoteEvents.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Quote, QuoteEvent, QuoteStatus
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.catalogue import EventType
from commerce_hub.events.services import event_emit


class QuoteStateError(ValidationError):
    """The quote is not in a state that allows this action (it moved on in another tab, or expired)."""


# The timestamp column each state sets when a quote enters it.
_STAMPS = {
    QuoteStatus.PUBLISHED: "published_at",
    QuoteStatus.VIEWED: "first_viewed_at",
    QuoteStatus.SIGNED: "signed_at",
    QuoteStatus.ACCEPTED: "accepted_at",
    QuoteStatus.PAID: "paid_at",
    QuoteStatus.DECLINED: "declined_at",
    QuoteStatus.EXPIRED: "expired_at",
}


def quote_lock(quote: Quote) -> Quote:
    """The quote's row, locked for the rest of the caller's transaction, with its current values."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("quote_lock must run inside a transaction.")
    return Quote.objects.select_for_update().get(pk=quote.pk)


def quote_event_add(*, quote: Quote, kind: str, actor=None, from_status: str = "", to_status: str = "", **data):
    return QuoteEvent.objects.create(
        quote=quote,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "pk", None) else None,
        data=data,
    )


def quote_change_record(
    quote: Quote,
    *,
    kind: str,
    actor,
    event: EventType | None = None,
    from_status: str = "",
    to_status: str = "",
    **data,
) -> None:
    """A change that is not a state change (a signature added, a revision made), or the traces of one."""
    quote_event_add(quote=quote, kind=kind, actor=actor, from_status=from_status, to_status=to_status, **data)
    audit_record(
        actor=actor if getattr(actor, "pk", None) else None,
        action=f"quote.{kind}",
        obj=quote,
        object_repr=str(quote),
        before={"status": from_status} if from_status else None,
        after={"status": to_status, **data} if to_status else (data or None),
    )
    if event is not None:
        event_emit(name=event, payload={"id": quote.pk, "number": quote.number, **data})


def quote_status_message(quote: Quote) -> str:
    """Why an action on this quote is refused now, in words a rep or a buyer understands."""
    messages = {
        QuoteStatus.PENDING_APPROVAL: _("Quote %(number)s is waiting for approval."),
        QuoteStatus.PUBLISHED: _("Quote %(number)s is published: unpublish it to change it."),
        QuoteStatus.VIEWED: _("Quote %(number)s is published: unpublish it to change it."),
        QuoteStatus.SIGNED: _("Quote %(number)s has been signed."),
        QuoteStatus.ACCEPTED: _("Quote %(number)s has been accepted."),
        QuoteStatus.PAID: _("Quote %(number)s has been paid."),
        QuoteStatus.DECLINED: _("Quote %(number)s was declined."),
        QuoteStatus.EXPIRED: _("Quote %(number)s has expired."),
    }
    template = messages.get(quote.status, _("Quote %(number)s cannot do that in its current state."))
    return template % {"number": str(quote)}


def quote_transition(
    quote: Quote,
    *,
    to: str,
    allowed_from: Iterable[str],
    actor,
    kind: str,
    event: EventType | None,
    fields: dict | None = None,
    **data,
) -> Quote:
    """Move the quote to `to` if it is in one of `allowed_from`, in the caller's transaction; raise QuoteStateError
    otherwise. `fields` are other columns written by the same update. Returns the quote as it now is."""
    allowed = [str(status) for status in allowed_from]
    now = timezone.now()
    values = {"status": to, "updated_at": now, **(fields or {})}
    stamp = _STAMPS.get(to)
    if stamp and stamp not in values:
        values[stamp] = now
    current = Quote.objects.filter(pk=quote.pk).values_list("status", flat=True).first()
    if current is None:
        raise QuoteStateError(_("This quote no longer exists."))
    touched = Quote.objects.filter(pk=quote.pk, status__in=allowed).update(**values)
    if touched != 1:
        quote.refresh_from_db()
        raise QuoteStateError(quote_status_message(quote))
    quote.refresh_from_db()
    quote_change_record(quote, kind=kind, actor=actor, event=event, from_status=current, to_status=to, **data)
    return quote
