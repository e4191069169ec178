"""The seller's answer to a dispute of the built-in processor: accept it (the money is lost and the invoice owes it
again) or send evidence (the bank reviews it). The answer is recorded with the form's idempotency key and
committed first; the processor is told after, outside any transaction, and its answer is applied like any event."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.idempotency.web import idempotent
from payments.models import Dispute, DisputeStatus, ProcessorKey
from payments.selectors.payouts import payment_url
from payments.services.disputes import EVIDENCE_MAX, dispute_respond, dispute_response_record

MANAGE = "accounts.manage_refunds"


class EvidenceForm(forms.Form):
    evidence = forms.CharField(
        label=gettext_lazy("Evidence"),
        max_length=EVIDENCE_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("What was delivered, when and to whom; the buyer's messages; tracking numbers."),
    )


def _dispute(request, pk: int) -> Dispute:
    return get_for_user(request.user, Dispute.objects.select_related("payment__invoice"), MANAGE, pk=pk)


def _back(dispute: Dispute) -> str:
    return payment_url(dispute.payment_id) or reverse("payments:payment_index")


def _answerable(request, dispute: Dispute):
    """None when the dispute can be answered here, else a redirect back with the reason."""
    if dispute.payment.processor != ProcessorKey.BUILTIN:
        messages.error(request, _("Answer this dispute in your processor's dashboard."))
    elif dispute.status != DisputeStatus.NEEDS_RESPONSE:
        messages.info(request, _("This dispute was answered already."))
    else:
        return None
    return redirect(_back(dispute))


@require_perm("accounts.view_payments", MANAGE)
@require_http_methods(["GET", "POST"])
def dispute_accept(request, pk: int):
    """A confirmation page, then the acceptance: the disputed amount is not coming back."""
    dispute = _dispute(request, pk)
    back = _back(dispute)
    if request.method == "POST":
        try:
            with idempotent(request, scope="dispute.accept", target=dispute) as claim:
                if claim.replay:
                    return claim.replay
                dispute_response_record(dispute=dispute, accept=True, evidence="", actor=request.user)
                response = claim.done(redirect(back))
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
            return redirect(back)
        dispute = dispute_respond(dispute=dispute, accept=True)
        if dispute.status == DisputeStatus.LOST:
            messages.success(request, _("Dispute accepted. The invoice owes the disputed amount again."))
        return response
    if (refused := _answerable(request, dispute)) is not None:
        return refused
    return render(
        request,
        "payments/disputes/accept.html",
        {"dispute": dispute, "back": back, "title": _("Accept this dispute?"), "active_nav": "payments"},
    )


@require_perm("accounts.view_payments", MANAGE)
@require_http_methods(["GET", "POST"])
def dispute_evidence(request, pk: int):
    dispute = _dispute(request, pk)
    back = _back(dispute)
    form = EvidenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        evidence = form.cleaned_data["evidence"]
        try:
            with idempotent(request, scope="dispute.evidence", target=dispute, params=form.cleaned_data) as claim:
                if claim.replay:
                    return claim.replay
                dispute_response_record(dispute=dispute, accept=False, evidence=evidence, actor=request.user)
                response = claim.done(redirect(back))
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            dispute = dispute_respond(dispute=dispute, accept=False, evidence=evidence)
            if dispute.status == DisputeStatus.UNDER_REVIEW:
                messages.success(request, _("Evidence sent. The bank reviews it and decides."))
            return response
    elif request.method == "GET" and (refused := _answerable(request, dispute)) is not None:
        return refused
    return render(
        request,
        "payments/disputes/evidence.html",
        {
            "dispute": dispute,
            "form": form,
            "back": back,
            "title": _("Send evidence"),
            "active_nav": "payments",
        },
        status=400 if form.errors else 200,
    )
