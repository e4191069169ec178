"""Settings → Quotes: approvals, defaults, the stage a paid quote moves its deal to and numbering on one page of small
forms (the hidden `section` says which is saved), and the quote templates."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from djmoney.money import Money

from billing.forms.quote_settings import (
    ApprovalsForm,
    DefaultsForm,
    NumberingForm,
    QuoteTemplateForm,
    WonStagesForm,
)
from billing.models import NumberSeries, QuoteLayout, QuoteTemplate
from billing.selectors.quote_approvals import quote_approvers
from billing.selectors.quote_settings import (
    quote_settings_get,
    quote_settings_summary,
    won_stage_rows,
)
from billing.selectors.quote_templates import quote_template_list, quote_template_sample, quote_template_texts
from billing.services import quote_settings as services
from billing.services import quote_templates as template_services
from billing.services.invoice_settings import PrefixChangeUnconfirmed
from billing.services.numbering import number_series_get
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.organization.selectors import organization_profile_get

PERM = "accounts.manage_settings"


def _ctx(**extra) -> dict:
    return {"active_nav": "settings", "settings_tab": "quotes", **extra}


def _page_url(anchor: str) -> str:
    return f"{reverse('billing:quote_settings')}#{anchor}"


def _forms(settings, bound: str | None = None, data=None) -> dict:
    """Every form of the page; the one named `bound` reads the posted data, the others show what is saved."""
    series = number_series_get(NumberSeries.QUOTE)
    company_currency = organization_profile_get().default_currency or "EUR"

    def make(name, cls, initial=None, **kwargs):
        return cls(data if bound == name else None, prefix=name, initial=initial, **kwargs)

    return {
        "approvals": make("approvals", ApprovalsForm, ApprovalsForm.initial_for(settings, company_currency)),
        "defaults": make("defaults", DefaultsForm, DefaultsForm.initial_for(settings)),
        "won": make("won", WonStagesForm, rows=won_stage_rows(settings)),
        "numbering": make("numbering", NumberingForm, {"prefix": series.prefix, "start_number": series.next_number}),
    }


def _render_page(request, settings, forms: dict, *, status: int = 200):
    approvers = quote_approvers()
    next_number = services.quote_next_number()
    template_services.quote_template_default()
    return render(
        request,
        "billing/quote_settings/page.html",
        _ctx(
            settings=settings,
            forms=forms,
            summary=quote_settings_summary(settings, approvers=approvers, next_number=next_number),
            next_number=next_number,
            templates=quote_template_list(include_archived=False),
        ),
        status=status,
    )


def _save_approvals(request, form):
    data = form.cleaned_data
    amount = data["approval_total_amount"]
    total = None if amount is None else Money(amount, data["approval_total_currency"])
    try:
        services.quote_approval_settings_update(
            actor=request.user,
            approvals_enabled=data["approvals_enabled"],
            discount_percent=data["approval_discount_percent"],
            total=total,
        )
    except ValidationError as exc:
        form_add_errors(form, exc)
        return None
    messages.success(request, _("Approval settings saved."))
    return redirect(_page_url("approvals"))


def _save_defaults(request, form):
    try:
        services.quote_defaults_update(actor=request.user, **form.cleaned_data)
    except ValidationError as exc:
        form_add_errors(form, exc)
        return None
    messages.success(request, _("Defaults for new quotes saved."))
    return redirect(_page_url("defaults"))


def _save_won(request, form):
    try:
        services.quote_won_stages_update(actor=request.user, won_stages=form.service_values())
    except ValidationError as exc:
        form_add_errors(form, exc)
        return None
    messages.success(request, _("Deal stages for paid quotes saved."))
    return redirect(_page_url("won"))


def _save_numbering(request, form):
    data = form.cleaned_data
    try:
        changes = services.quote_numbering_update(
            actor=request.user,
            prefix=data["prefix"],
            start_number=data["start_number"],
            confirmed=request.POST.get("confirmed") == "1",
        )
    except PrefixChangeUnconfirmed as unconfirmed:
        return render(
            request,
            "billing/quote_settings/confirm_prefix.html",
            _ctx(form=form, changes=unconfirmed.changes),
        )
    except ValidationError as exc:
        form_add_errors(form, exc)
        return None
    if changes:
        messages.success(request, _("Numbering saved. The new prefix applies to quotes numbered from now on."))
    else:
        messages.success(request, _("Numbering saved."))
    return redirect(_page_url("numbering"))


SAVERS = {
    "approvals": _save_approvals,
    "defaults": _save_defaults,
    "won": _save_won,
    "numbering": _save_numbering,
}


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def quote_settings(request):
    settings = quote_settings_get()
    section = request.POST.get("section") if request.method == "POST" else None
    if request.method == "POST" and section not in SAVERS:
        messages.error(request, _("That form is out of date; please try again."))
        return redirect("billing:quote_settings")
    forms = _forms(settings, bound=section, data=request.POST)
    if section is not None:
        form = forms[section]
        if form.is_valid():
            response = SAVERS[section](request, form)
            if response is not None:
                return response
    status = 400 if section is not None and forms[section].errors else 200
    return _render_page(request, settings, forms, status=status)


# --- templates --------------------------------------------------------------------------------------------------------


def _template_get(request, pk: int) -> QuoteTemplate:
    return get_for_user(request.user, QuoteTemplate.objects.all(), PERM, pk=pk)


def _templates_url() -> str:
    return reverse("billing:quote_template_list")


@require_perm(PERM)
def quote_template_list_view(request):
    template_services.quote_template_default()  # the built-in templates are always there to choose from
    return render(
        request,
        "billing/quote_settings/templates.html",
        _ctx(templates=list(quote_template_list()), layouts=QuoteLayout.choices),
    )


def _template_values(form) -> dict:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "layout": data["layout"],
        "accent_color": data["accent_color"],
        "header_text": data["header_text"],
        "footer_text": data["footer_text"],
        "terms": data["terms"],
        "logo": data["logo"] or None,
    }


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def quote_template_create(request):
    form = QuoteTemplateForm(request.POST or None, request.FILES or None, initial={"layout": QuoteLayout.CLASSIC})
    if request.method == "POST" and form.is_valid():
        try:
            template = template_services.quote_template_create(actor=request.user, **_template_values(form))
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Template “%(name)s” created.") % {"name": template.name})
            return redirect(_templates_url())
    return render(
        request,
        "billing/quote_settings/template_form.html",
        _ctx(form=form, template=None),
        status=400 if form.errors else 200,
    )


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def quote_template_edit(request, pk: int):
    template = _template_get(request, pk)
    form = QuoteTemplateForm(
        request.POST or None,
        request.FILES or None,
        initial=QuoteTemplateForm.initial_for(template),
        template=template,
    )
    if request.method == "POST" and form.is_valid():
        try:
            template_services.quote_template_update(
                actor=request.user,
                template=template,
                remove_logo=form.cleaned_data.get("remove_logo", False),
                **_template_values(form),
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect(_templates_url())
    return render(
        request,
        "billing/quote_settings/template_form.html",
        _ctx(form=form, template=template),
        status=400 if form.errors else 200,
    )


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def quote_template_archive(request, pk: int):
    template = _template_get(request, pk)
    if request.method == "POST":
        try:
            template_services.quote_template_archive(actor=request.user, template=template)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Template “%(name)s” archived.") % {"name": template.name})
        return redirect(_templates_url())
    return render(
        request,
        "billing/quote_settings/template_archive.html",
        _ctx(template=template, quote_count=template.quotes.count()),
    )


@require_perm(PERM)
@require_POST
def quote_template_restore(request, pk: int):
    template = _template_get(request, pk)
    template_services.quote_template_restore(actor=request.user, template=template)
    messages.success(request, _("Template “%(name)s” restored.") % {"name": template.name})
    return redirect(_templates_url())


@require_perm(PERM)
@require_POST
def quote_template_make_default(request, pk: int):
    template = _template_get(request, pk)
    try:
        template_services.quote_template_set_default(actor=request.user, template=template)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("New quotes now start with the template “%(name)s”.") % {"name": template.name})
    return redirect(_templates_url())


@require_perm(PERM)
def quote_template_preview(request, pk: int):
    """A sample quote in the template's layout and theme, in the language asked for (English, Dutch, Norwegian)."""
    template = _template_get(request, pk)
    languages = dict(django_settings.LANGUAGES)
    language = request.GET.get("language") or translation.get_language() or "en"
    language = language if language in languages else "en"
    return render(
        request,
        "billing/quote_settings/template_preview.html",
        _ctx(
            template=template,
            language=language,
            languages=list(languages.items()),
            theme=quote_template_texts(template, language),
            document=quote_template_sample(language=language, number=services.quote_next_number()),
        ),
    )


@require_perm(PERM)
def quote_template_logo(request, pk: int):
    """A template's own logo, from the tenant's storage (the path never comes from the request)."""
    template = _template_get(request, pk)
    if not template.logo:
        raise Http404
    try:
        handle = template.logo.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle)
    response["Cache-Control"] = "private, max-age=300"
    return response
