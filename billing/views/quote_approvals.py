"""Asking for, approving and rejecting a quote's approval. POST only (rejecting also has a page of its own, for the
comment a rejection needs); each answers with a message on the quote's page, never an error page, when the quote
moved on in the meantime (someone else decided, the quote was changed or expired)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from billing.forms.quote_settings import RejectForm
from billing.models import ApprovalDecision, Quote, QuoteStatus
from billing.selectors.quote_approvals import quote_approval_latest, quote_decision_refusal
from billing.services.quote_approvals import (
    quote_approve,
    quote_page_path,
    quote_reject,
    quote_request_approval,
)
from billing.services.quote_records import QuoteStateError
from billing.views.quotes import quote_get
from commerce_hub.access import require_perm
from commerce_hub.forms import form_add_errors

APPROVE = "accounts.approve_quotes"


def _back(quote: Quote):
    return redirect(f"{quote_page_path(quote)}#approval")


@require_perm("accounts.edit_quotes")
@require_POST
def quote_request_approval_view(request, pk: int):
    quote = quote_get(request, pk, "accounts.edit_quotes")
    try:
        quote_request_approval(quote=quote, actor=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(_messages(exc)))
    else:
        messages.success(request, _("Submitted for approval. The approvers have a task and an email."))
    return _back(quote)


def _messages(exc) -> list[str]:
    if isinstance(exc, ValidationError):
        return exc.messages
    return [str(exc) or _("You cannot do that.")]


@require_perm(APPROVE)
@require_POST
def quote_approve_view(request, pk: int):
    quote = quote_get(request, pk, APPROVE)
    try:
        quote_approve(quote=quote, actor=request.user, comment=request.POST.get("comment", ""))
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(_messages(exc)))
    else:
        messages.success(request, _("Quote approved. It can be published now."))
    return _back(quote)


@require_perm(APPROVE)
@require_http_methods(["GET", "POST"])
def quote_reject_view(request, pk: int):
    quote = quote_get(request, pk, APPROVE)
    form = RejectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            quote_reject(quote=quote, actor=request.user, comment=form.cleaned_data["comment"])
        except QuoteStateError as exc:
            messages.error(request, " ".join(exc.messages))
            return _back(quote)
        except PermissionDenied as exc:
            messages.error(request, " ".join(_messages(exc)))
            return _back(quote)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Quote rejected. It is back in draft, with your comment."))
            return _back(quote)
    pending = quote_approval_latest(quote)
    if quote.status != QuoteStatus.PENDING_APPROVAL or pending is None or pending.decision != ApprovalDecision.PENDING:
        messages.error(request, _("This quote is not waiting for approval."))
        return _back(quote)
    refusal = quote_decision_refusal(pending, request.user)
    if refusal:
        messages.error(request, refusal)
        return _back(quote)
    return render(
        request,
        "billing/quote_settings/approval_reject.html",
        {"active_nav": "quotes", "quote": quote, "approval": pending, "form": form, "back": quote_page_path(quote)},
        status=400 if form.errors else 200,
    )
