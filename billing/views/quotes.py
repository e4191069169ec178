"""Quote pages: a new quote (from a deal, or from scratch with a new deal), the record page and deleting a draft.
The builder's steps are in billing/views/quote_builder.py, the index in billing/views/quote_index.py.

Views parse, check permissions through access-checked getters and call one service; a quote that moved on in
another tab (published, sent for approval) answers with the service's words as a visible message, never an error
page.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.forms.quotes import NewQuoteForm
from billing.models import Quote, QuoteStatus
from billing.quote_sections import quote_detail_sections
from billing.selectors.quote_approvals import quote_approval_required
from billing.selectors.quotes import STEPS, quote_page
from billing.services import quotes as services
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.idempotency.web import idempotent
from commerce_hub.organization.selectors import organization_profile_get
from commerce_hub.text import clean_search
from crm.models import Company, Contact, Deal

VIEW = "accounts.view_quotes"
EDIT = "accounts.edit_quotes"


def quote_get(request, pk: int, perm: str = VIEW) -> Quote:
    """The quote, if the user may `perm` it; another tenant's quote is not in this schema at all (404)."""
    return get_for_user(
        request.user, Quote.objects.select_related("company", "deal", "owner", "template", "publication"), perm, pk=pk
    )


def errors_to_messages(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- new quotes -------------------------------------------------------------------------------------------------------


@require_perm(EDIT)
@require_POST
def quote_create_from_deal(request, deal_pk: int):
    """A draft from a deal's page: its company, contacts and line items copied in. The form carries an idempotency
    key, so a double click makes one quote and shows it."""
    deal = get_for_user(request.user, Deal.objects.all(), "accounts.view_crm", pk=deal_pk)
    try:
        with idempotent(request, scope="quote.create_from_deal", target=deal) as claim:
            if claim.replay:
                return claim.replay
            quote = services.quote_create_from_deal(deal=deal, actor=request.user)
            messages.success(request, _("Quote created from the deal. Check the details, then go through the steps."))
            return claim.done(redirect("billing:quote_step", quote.pk, "details"))
    except ValidationError as exc:
        errors_to_messages(request, exc)
        return redirect("crm:deal_detail", deal.pk)


@require_perm(EDIT, "accounts.edit_crm")
@require_http_methods(["GET", "POST"])
def quote_new(request):
    """A quote from scratch: it creates the deal too (a quote always belongs to a deal)."""
    initial = {"currency": organization_profile_get().default_currency or "EUR"}
    form = NewQuoteForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with idempotent(request, scope="quote.create", params=data) as claim:
                if claim.replay:
                    return claim.replay
                quote = services.quote_create_new_deal(
                    name=data["name"],
                    company=data["company"],
                    contact=data["contact"],
                    currency=data["currency"],
                    actor=request.user,
                )
                messages.success(request, _("Quote and deal “%(name)s” created.") % {"name": quote.deal.name})
                return claim.done(redirect("billing:quote_step", quote.pk, "details"))
        except ValidationError as exc:
            form_add_errors(form, exc)
    return render(
        request,
        "billing/quotes/new.html",
        {"form": form, "title": _("New quote"), "active_nav": "quotes"},
        status=400 if form.errors else 200,
    )


@require_perm(EDIT)
@require_GET
def quote_buyer_options(request):
    """<option>s for the company and contact search boxes of the quote forms (a datalist filled as one types)."""
    search = clean_search(request.GET.get("q", "") or request.GET.get("company", "") or request.GET.get("contact", ""))
    search = search or clean_search(request.GET.get("add_contact", ""))
    options: list[str] = []
    if search:
        if request.GET.get("kind") == "contact":
            rows = Contact.objects.filter(
                Q(email__icontains=search) | Q(first_name__icontains=search) | Q(last_name__icontains=search)
            ).order_by("last_name", "first_name", "id")[:20]
            options = [f"{c.email} (#{c.pk})" for c in rows]
        else:
            rows = Company.objects.filter(name__icontains=search).order_by("name", "id")[:20]
            options = [f"{c.name} (#{c.pk})" for c in rows]
    return render(request, "billing/invoices/_buyer_options.html", {"options": options})


# --- the record page --------------------------------------------------------------------------------------------------


def publish_actions(quote: Quote, *, editable: bool) -> dict:
    """Publish, and Submit for approval while an approver must approve the quote as it stands (the approvals
    feature's rule: billing.selectors.quote_approvals.quote_approval_required). Both are other features' routes."""
    if not editable:
        return {"publish_url": "", "approval_url": "", "approval_required": []}
    required = quote_approval_required(quote)
    return {
        "publish_url": reverse("billing:quote_publish", args=[quote.pk]),
        "approval_url": reverse("billing:quote_request_approval", args=[quote.pk]) if required else "",
        "approval_required": required,
    }


def _actions(request, quote: Quote, problems: list[str]) -> dict:
    """The buttons of the record page by state; a button of another feature shows once its route exists."""
    can_edit = request.user.has_perm(EDIT)
    editable = can_edit and quote.is_editable
    live = quote.status in (QuoteStatus.PUBLISHED, QuoteStatus.VIEWED)
    actions = publish_actions(quote, editable=editable)
    return {
        "can_edit": can_edit,
        "editable": editable,
        **actions,
        "unpublish_url": reverse("billing:quote_unpublish", args=[quote.pk]) if can_edit and live else "",
        "can_delete": can_edit and quote.status == QuoteStatus.DRAFT and not quote.revision,
        "can_convert": can_edit
        and request.user.has_perm("accounts.create_invoices")
        and quote.status in services.CONVERTIBLE,
        "publish_blocked": bool(problems or actions["approval_required"]),
    }


@require_perm(VIEW)
@require_GET
def quote_detail(request, pk: int):
    quote = quote_get(request, pk)
    page = quote_page(quote)
    publication = quote.publication if quote.publication_id else None
    context = {
        "quote": quote,
        "page": page,
        "title": quote.title,
        "steps": STEPS,
        "contacts": list(quote.contacts.order_by("last_name", "first_name", "id")),
        "countersigners": list(quote.countersigners.order_by("full_name", "id")),
        "hosted_url": reverse("billing:quote_hosted", args=[publication.token]) if publication else "",
        "schedule_url": reverse("billing:quote_schedule", args=[quote.pk]),
        "pdf_url": reverse("billing:quote_pdf", args=[quote.pk]),
        "sections": quote_detail_sections(request, quote),
        "active_nav": "quotes",
        **_actions(request, quote, page.problems),
    }
    for item in page.publications:
        item.hosted_url = reverse("billing:quote_hosted", args=[item.token])
    return render(request, "billing/quotes/detail.html", context)


@require_perm(EDIT, "accounts.create_invoices")
@require_POST
def quote_convert(request, pk: int):
    """A draft invoice from the quote; the form carries an idempotency key, so a double click makes one."""
    quote = quote_get(request, pk, EDIT)
    try:
        with idempotent(request, scope="quote.convert", target=quote) as claim:
            if claim.replay:
                return claim.replay
            invoice = services.quote_convert_to_invoice(quote=quote, actor=request.user)
            messages.success(request, _("Draft invoice made from quote %(number)s.") % {"number": quote})
            return claim.done(redirect("billing:invoice_detail", invoice.pk))
    except ValidationError as exc:
        errors_to_messages(request, exc)
        return redirect("billing:quote_detail", quote.pk)


@require_perm(EDIT)
@require_http_methods(["GET", "POST"])
def quote_delete(request, pk: int):
    quote = quote_get(request, pk, EDIT)
    if request.method == "POST":
        try:
            services.quote_delete(quote=quote, actor=request.user)
        except ValidationError as exc:
            errors_to_messages(request, exc)
            return redirect("billing:quote_detail", quote.pk)
        messages.success(request, _("Draft quote deleted. The deal and its line items stay."))
        return redirect("billing:quote_list")
    return render(
        request,
        "billing/quotes/confirm_delete.html",
        {"quote": quote, "title": _("Delete this draft quote?"), "active_nav": "quotes"},
    )
