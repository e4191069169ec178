"""Quote approvals: a rep asks, an approver approves or rejects with a comment.

Asking moves the quote from draft (or from approved, when its content changed since) to pending approval, records
the request with its reasons and the fingerprint of the priced content, gives every approver a task on the deal and
queues an email to each, all in one transaction (the emails go out after it commits). Deciding locks the quote, so
two approvers deciding at once cannot both win: the second is told who decided first. Approving moves the quote to
approved (publishing is then allowed for exactly that content); rejecting moves it back to draft with the comment
shown on the record page. Either way the approvers' tasks are completed and the requester is told by email.

Who may decide is billing.selectors.quote_approvals.quote_decision_refusal (no self-approval, except an admin who
is the only approver).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing import events
from billing.models import ApprovalDecision, Quote, QuoteApproval, QuoteStatus
from billing.selectors.quote_approvals import (  # noqa: F401 - quote_approval_required is part of this module's API
    APPROVE_PERMISSION,
    REQUESTABLE_STATUSES,
    quote_approval_assess,
    quote_approval_covers,
    quote_approval_required,
    quote_approvers_for,
    quote_decision_refusal,
)
from billing.services.quote_records import QuoteStateError, quote_lock, quote_status_message, quote_transition
from commerce_hub.mail import email_queue
from commerce_hub.site_urls import current_tenant_url
from crm.models import Task
from crm.services.activities import TASK_TITLE_MAX_LENGTH, task_complete, task_create

COMMENT_MAX = 2000
REQUESTED_TEMPLATE = "quote-approval-requested"
DECIDED_TEMPLATE = "quote-approval-decided"


def quote_page_path(quote: Quote) -> str:
    """The quote's record page, where its approval section is (its deal's page where the record page is missing)."""
    try:
        return reverse("billing:quote_detail", args=[quote.pk])
    except NoReverseMatch:
        return reverse("crm:deal_detail", args=[quote.deal_id])


def _who(user) -> str:
    if user is None:
        return _("someone")
    return user.full_name or user.email


def _decided_message(quote: Quote) -> str:
    """Why a decision on `quote` comes too late: someone decided already, or the quote moved on."""
    decided = (
        QuoteApproval.objects.filter(quote=quote)
        .exclude(decision=ApprovalDecision.PENDING)
        .select_related("decided_by")
        .order_by("-decided_at", "-id")
        .first()
    )
    if quote.status != QuoteStatus.PENDING_APPROVAL and decided is not None:
        if decided.decision == ApprovalDecision.APPROVED:
            return _("%(who)s already approved this quote.") % {"who": _who(decided.decided_by)}
        return _("%(who)s already rejected this quote.") % {"who": _who(decided.decided_by)}
    if quote.status != QuoteStatus.PENDING_APPROVAL:
        return _("This quote is not waiting for approval.")
    return quote_status_message(quote)


def _comment_clean(comment: str, *, required: bool) -> str:
    comment = (comment or "").strip()
    if required and not comment:
        raise ValidationError({"comment": [_("Say why you reject the quote, so the requester knows what to change.")]})
    if len(comment) > COMMENT_MAX:
        raise ValidationError(
            {"comment": [_("Keep the comment under %(max)s characters.") % {"max": f"{COMMENT_MAX:,}"}]}
        )
    return comment


def _task_title(quote: Quote) -> str:
    title = _("Approve quote “%(title)s”") % {"title": quote.title}
    if len(title) > TASK_TITLE_MAX_LENGTH:
        title = title[: TASK_TITLE_MAX_LENGTH - 1] + "…"
    return title


def quote_request_approval(*, quote: Quote, actor) -> QuoteApproval:
    """Send `quote` for approval: draft (or approved with changed content) -> pending approval. Refused when the
    quote needs no approval, is in another state, or nobody could decide on it."""
    if not actor.has_perm("accounts.edit_quotes"):
        raise PermissionDenied(_("You cannot edit quotes."))
    with transaction.atomic():
        locked = quote_lock(quote)
        if locked.status not in REQUESTABLE_STATUSES:
            raise QuoteStateError(quote_status_message(locked))
        assessment = quote_approval_assess(locked)
        if not assessment.reasons or quote_approval_covers(locked, assessment.fingerprint):
            raise ValidationError(_("This quote needs no approval: it can be published as it is."))
        approvers = quote_approvers_for(actor)
        if not approvers:
            raise ValidationError(
                _("Nobody else can approve this quote: approving needs an admin, or someone given the permission.")
            )
        locked = quote_transition(
            locked,
            to=QuoteStatus.PENDING_APPROVAL,
            allowed_from=REQUESTABLE_STATUSES,
            actor=actor,
            kind="approval_requested",
            event=events.QUOTE_APPROVAL_REQUESTED,
            reason=" ".join(assessment.reasons),
        )
        approval = QuoteApproval.objects.create(
            quote=locked,
            reasons=assessment.reasons,
            requested_by=actor,
            fingerprint=assessment.fingerprint,
        )
        url = current_tenant_url(quote_page_path(locked))
        reasons = {translation.get_language(): assessment.reasons}
        tasks = []
        for approver in approvers:
            # Each approver reads the task, the email and the reasons in their own language.
            with translation.override(approver.language):
                if approver.language not in reasons:
                    reasons[approver.language] = quote_approval_assess(locked).reasons
                tasks.append(
                    task_create(
                        record=locked.deal,
                        title=_task_title(locked),
                        due_date=timezone.localdate(),
                        owner=approver,
                        actor=actor,
                    )
                )
            email_queue(
                to=approver.email,
                name=REQUESTED_TEMPLATE,
                language=approver.language,
                context={
                    "user": approver,
                    "quote": locked,
                    "requester": actor,
                    "reasons": reasons[approver.language],
                    "total": assessment.total,
                    "url": url,
                },
            )
        approval.tasks.set(tasks)
    quote.refresh_from_db()
    return approval


def _decide(*, quote: Quote, actor, decision: str, comment: str) -> QuoteApproval:
    if not actor.has_perm(APPROVE_PERMISSION):
        raise PermissionDenied(_("Only people who may approve quotes can approve or reject them."))
    comment = _comment_clean(comment, required=decision == ApprovalDecision.REJECTED)
    with transaction.atomic():
        locked = quote_lock(quote)
        approval = (
            QuoteApproval.objects.select_for_update().filter(quote=locked, decision=ApprovalDecision.PENDING).first()
        )
        if approval is None or locked.status != QuoteStatus.PENDING_APPROVAL:
            raise QuoteStateError(_decided_message(locked))
        refusal = quote_decision_refusal(approval, actor)
        if refusal:
            raise PermissionDenied(refusal)
        now = timezone.now()
        QuoteApproval.objects.filter(pk=approval.pk, decision=ApprovalDecision.PENDING).update(
            decision=decision, decided_by=actor, decided_at=now, comment=comment
        )
        approval.refresh_from_db()
        if decision == ApprovalDecision.APPROVED:
            target, kind, event = QuoteStatus.APPROVED, "approved", events.QUOTE_APPROVED
        else:
            target, kind, event = QuoteStatus.DRAFT, "approval_rejected", events.QUOTE_APPROVAL_REJECTED
        quote_transition(
            locked,
            to=target,
            allowed_from=[QuoteStatus.PENDING_APPROVAL],
            actor=actor,
            kind=kind,
            event=event,
            comment=comment,
        )
        for task in Task.objects.filter(pk__in=approval.tasks.values("pk"), completed_at__isnull=True):
            task_complete(task=task, actor=actor)
        requester = approval.requested_by
        if requester is not None and requester.pk != actor.pk and requester.is_active and requester.email:
            email_queue(
                to=requester.email,
                name=DECIDED_TEMPLATE,
                language=requester.language,
                context={
                    "user": requester,
                    "quote": locked,
                    "approval": approval,
                    "decider": actor,
                    "approved": decision == ApprovalDecision.APPROVED,
                    "url": current_tenant_url(quote_page_path(locked)),
                },
            )
    quote.refresh_from_db()
    return approval


def quote_approve(*, quote: Quote, actor, comment: str = "") -> QuoteApproval:
    """Approve the pending request: the quote becomes approved and may be published as it is now."""
    return _decide(quote=quote, actor=actor, decision=ApprovalDecision.APPROVED, comment=comment)


def quote_reject(*, quote: Quote, actor, comment: str) -> QuoteApproval:
    """Reject the pending request with a comment (required): the quote goes back to draft."""
    return _decide(quote=quote, actor=actor, decision=ApprovalDecision.REJECTED, comment=comment)
