"""The payment schedule step of the quote builder: add and remove installments, each with a name, a percentage or an
amount, and a due date; the amounts each installment comes to, and what refuses a schedule, shown inline. Works
without JavaScript: "Add an installment" posts the rows typed so far back with one more."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing import pricing
from billing.forms.quote_schedule import schedule_formset
from billing.models import Quote, QuoteInstallment
from billing.quote_payment_plan import quote_installment_amounts, quote_pricing, schedule_line_problems
from billing.services.quote_schedule import quote_schedule_set
from commerce_hub.access import get_for_user, require_perm

VIEW = "accounts.view_quotes"
EDIT = "accounts.edit_quotes"


def _quote_url(quote: Quote) -> str:
    """The quote's record page (the builder's route), or its deal's while that route does not exist."""
    try:
        return reverse("billing:quote_detail", args=[quote.pk])
    except NoReverseMatch:
        return reverse("crm:deal_detail", args=[quote.deal_id])


def _step_urls(quote: Quote) -> dict:
    """The builder's schedule step (which links here) and the step after it, while the quote can be edited."""
    urls = {}
    for key, step in (("previous", "schedule"), ("next", "options")):
        try:
            urls[key] = reverse("billing:quote_step", args=[quote.pk, step])
        except NoReverseMatch:
            continue
    return urls


def _stored(quote: Quote) -> list[QuoteInstallment]:
    return list(QuoteInstallment.objects.filter(quote=quote).order_by("position", "id"))


def _figures(quote: Quote, stored: list[QuoteInstallment]) -> dict:
    """The quote's total, what refuses a schedule on it, and what each stored installment comes to."""
    try:
        priced = quote_pricing(quote)
    except pricing.PricingError as exc:
        return {"total": None, "refusals": [_("Some line items cannot be priced: %(reason)s") % {"reason": exc}]}
    figures = {"total": priced.summary.total, "refusals": schedule_line_problems(priced.lines), "amounts": []}
    if stored and not figures["refusals"]:
        try:
            figures["amounts"] = list(zip(stored, quote_installment_amounts(quote, priced=priced), strict=True))
        except ValidationError as exc:
            figures["stale"] = exc.messages
    return figures


@require_perm(VIEW)
@require_http_methods(["GET", "POST"])
def quote_schedule(request, pk: int):
    quote = get_for_user(request.user, Quote.objects.select_related("deal"), VIEW, pk=pk)
    can_edit = request.user.has_perm(EDIT) and quote.is_editable
    status = 200
    if request.method == "POST":
        if not request.user.has_perm(EDIT):
            raise PermissionDenied
        if "clear" in request.POST:
            try:
                quote_schedule_set(quote=quote, installments=[], actor=request.user)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("Payment schedule removed: the whole total is paid at checkout."))
            return redirect("billing:quote_schedule", quote.pk)
        formset = schedule_formset(request.POST, add_row="add" in request.POST)
        if "add" not in request.POST:
            if formset.is_valid():
                try:
                    quote_schedule_set(quote=quote, installments=formset.installments(), actor=request.user)
                except ValidationError as exc:
                    formset.apply_errors(exc)
                else:
                    messages.success(request, _("Payment schedule saved."))
                    return redirect("billing:quote_schedule", quote.pk)
            status = 400
    else:
        formset = schedule_formset(installments=_stored(quote))
    stored = _stored(quote)
    context = {
        "quote": quote,
        "formset": formset,
        "can_edit": can_edit,
        "has_schedule": bool(stored),
        "quote_url": _quote_url(quote),
        "step_urls": _step_urls(quote) if can_edit else {},
        "active_nav": "quotes",
        **_figures(quote, stored),
    }
    return render(request, "billing/quotes/schedule.html", context, status=status)
