"""The quote builder: eight steps, each a plain form page with its errors next to the fields, a progress indicator
and Back / Next. Lines are the shared line item editor (billing/views/line_items.py) on the quote; the one-time
discounts, fees and taxes of the summary step go through the editor's own services; the payment schedule belongs to
its own feature, which the schedule step links to. The review shows the document and what blocks publishing.

Every step needs "edit quotes"; a quote that is no longer editable (published or sent for approval in another tab)
sends the user to its record page with the reason.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _L
from django.views.decorators.http import require_http_methods

from billing.editor import owner_for
from billing.forms import quotes as forms
from billing.models import Quote, QuoteInstallment
from billing.selectors.quotes import STEP_KEYS, STEPS, quote_page
from billing.services import line_items as line_services
from billing.services import quotes as services
from billing.services.quote_records import QuoteStateError, quote_status_message
from billing.views.line_items import AdjustmentForm, editor_context
from billing.views.quotes import EDIT, errors_to_messages, publish_actions, quote_get
from commerce_hub.access import require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.text import is_id


def _progress(quote: Quote, step: str) -> dict:
    index = STEP_KEYS.index(step)
    return {
        "step": step,
        "step_number": index + 1,
        "step_count": len(STEPS),
        "step_title": dict(STEPS)[step],
        "steps": [(number + 1, key, label) for number, (key, label) in enumerate(STEPS)],
        "previous_step": STEP_KEYS[index - 1] if index else "",
        "next_step": STEP_KEYS[index + 1] if index + 1 < len(STEPS) else "",
    }


def _render(request, quote: Quote, step: str, context: dict, *, status: int = 200):
    context = {
        "quote": quote,
        "title": quote.title,
        "active_nav": "quotes",
        **_progress(quote, step),
        **context,
    }
    return render(request, "billing/quotes/builder.html", context, status=status)


def _next(quote: Quote, step: str):
    following = _progress(quote, step)["next_step"] or "review"
    return redirect("billing:quote_step", quote.pk, following)


# --- the form steps ---------------------------------------------------------------------------------------------------


def _save_details(request, quote: Quote, d: dict) -> None:
    values = services.QuoteDetails(
        title=d["title"],
        expires_on=d["expires_on"],
        language=d["language"],
        currency=d["currency"],
        template_id=d["template"].pk if d["template"] else None,
    )
    services.quote_update_details(quote=quote, values=values, actor=request.user)


def _save_parties(request, quote: Quote, d: dict) -> None:
    contacts = list(d["contacts"])
    if d["add_contact"] is not None:
        contacts.append(d["add_contact"])
    services.quote_update_parties(
        quote=quote, company=d["company"], contacts=contacts, owner=d["owner"], actor=request.user
    )


def _save_options(request, quote: Quote, d: dict) -> None:
    values = services.QuoteOptions(
        signature_required=d["signature_required"],
        countersigners=list(d["countersigners"]),
        signing_order=d["signing_order"],
        payment_enabled=d["payment_enabled"],
        payment_methods=list(d["payment_methods"]),
    )
    services.quote_update_options(quote=quote, values=values, actor=request.user)


def _save_terms(request, quote: Quote, d: dict) -> None:
    services.quote_update_terms(quote=quote, comments=d["comments"], terms=d["terms"], actor=request.user)


# step: (form class, its initial values, the save)
FORM_STEPS = {
    "details": (forms.DetailsForm, forms.details_initial, _save_details),
    "parties": (forms.PartiesForm, forms.parties_initial, _save_parties),
    "options": (forms.OptionsForm, forms.options_initial, _save_options),
    "terms": (forms.TermsForm, forms.terms_initial, _save_terms),
}
SAVED = {
    "details": _L("Details saved."),
    "parties": _L("Buyer and sender saved."),
    "options": _L("Signature and payment options saved."),
    "terms": _L("Comments and terms saved."),
}


def _form_step(request, quote: Quote, step: str):
    form_class, initial, save = FORM_STEPS[step]
    data = request.POST if request.method == "POST" else None
    kwargs = {} if form_class is forms.TermsForm else {"quote": quote}
    form = form_class(data, initial=initial(quote), **kwargs)
    if data is not None and form.is_valid():
        try:
            save(request, quote, form.cleaned_data)
        except QuoteStateError:
            raise  # not the form's fault: the quote moved on (quote_step shows why)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, str(SAVED[step]))
            return _next(quote, step)
    return _render(request, quote, step, {"form": form}, status=400 if form.errors else 200)


# --- lines, summary, schedule, review ---------------------------------------------------------------------------------


def _lines(request, quote: Quote):
    return _render(request, quote, "lines", editor_context(request, owner_for("quote", quote)))


def _summary(request, quote: Quote):
    """The one-time discounts, fees and taxes: added and removed here through the line item editor's services, so
    the quote is repriced and its deal follows exactly as when they are edited in the editor."""
    owner = owner_for("quote", quote)
    form = AdjustmentForm(request.POST if request.POST.get("action") == "add" else None, prefix="adjustment")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "add" and form.is_valid():
                adjustment = line_services.adjustment_create(owner=owner, values=form.values(), actor=request.user)
                messages.success(request, _("“%(label)s” added.") % {"label": adjustment.label})
                return redirect("billing:quote_step", quote.pk, "summary")
            if action == "remove":
                pk = request.POST.get("adjustment", "")
                adjustment = get_object_or_404(owner.adjustments(), pk=int(pk)) if is_id(pk) else None
                if adjustment is None:
                    raise Http404
                line_services.adjustment_delete(owner=owner, adjustment=adjustment, actor=request.user)
                messages.success(request, _("“%(label)s” removed.") % {"label": adjustment.label})
                return redirect("billing:quote_step", quote.pk, "summary")
        except ValidationError as exc:
            if action != "add":
                raise
            form_add_errors(form, exc)
    context = editor_context(request, owner)
    context["adjustment_form"] = form
    return _render(request, quote, "summary", context, status=400 if form.errors else 200)


def _schedule(request, quote: Quote):
    installments = list(QuoteInstallment.objects.filter(quote=quote).order_by("position", "id"))
    return _render(
        request,
        quote,
        "schedule",
        {"installments": installments, "schedule_url": reverse("billing:quote_schedule", args=[quote.pk])},
    )


def _review(request, quote: Quote):
    page = quote_page(quote)
    actions = publish_actions(quote, editable=True)
    blocked = bool(page.problems or actions["approval_required"])
    return _render(request, quote, "review", {"page": page, "publish_blocked": blocked, **actions})


@require_perm(EDIT)
@require_http_methods(["GET", "POST"])
def quote_step(request, pk: int, step: str):
    if step not in STEP_KEYS:
        raise Http404
    quote = quote_get(request, pk, EDIT)
    if not quote.is_editable:
        messages.error(request, quote_status_message(quote))
        return redirect("billing:quote_detail", quote.pk)
    try:
        if step in FORM_STEPS:
            return _form_step(request, quote, step)
        if request.method == "POST" and step != "summary":
            return _next(quote, step)
        return {"lines": _lines, "summary": _summary, "schedule": _schedule, "review": _review}[step](request, quote)
    except ValidationError as exc:
        # The quote moved on meanwhile (published in another tab): the reason, on its record page.
        errors_to_messages(request, exc)
        return redirect("billing:quote_detail", quote.pk)
