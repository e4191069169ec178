"""Invoice pages: create, edit a draft, finalize, and everything after (send, payments, void, uncollectible,
credit notes, PDFs), plus the buyer's hosted page. Views parse, check permissions and call one service."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.editor import owner_for
from billing.forms.invoices import CreditNoteForm, DraftForm, NewInvoiceForm, PaymentForm, VoidForm, draft_initial
from billing.hosted import hosted_headers, hosted_logo_uri, pay_url_for
from billing.models import CreditNote, Invoice, InvoiceStatus, NumberSeries
from billing.record_actions import credit_note_actions, invoice_actions
from billing.selectors.invoices import (
    STATUS_BADGES,
    document_for_display,
    invoice_by_token,
    invoice_link_closed,
    invoice_page,
    status_label,
)
from billing.services import credit_notes as credit_services
from billing.services import invoice_links as link_services
from billing.services import invoice_payments as payment_services
from billing.services import invoices as services
from billing.services.numbering import number_format, number_series_get
from billing.views.line_items import editor_context
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.idempotency.web import idempotent
from commerce_hub.text import clean_search
from crm.models import Company, Contact, Deal

VIEW = "accounts.view_invoices"
CREATE = "accounts.create_invoices"
EDIT = "accounts.edit_invoices"
PAYMENTS = "accounts.manage_payments"


def _invoice(request, pk: int, perm: str = VIEW) -> Invoice:
    return get_for_user(request.user, Invoice.objects.select_related("company", "deal"), perm, pk=pk)


def _errors_to_messages(request, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- create -----------------------------------------------------------------------------------------------------------


@require_perm(VIEW)
@require_GET
def invoice_buyer_options(request):
    """<option>s for the company and contact search boxes (a datalist filled as the user types)."""
    search = clean_search(request.GET.get("q", "") or request.GET.get("company", "") or request.GET.get("contact", ""))
    kind = request.GET.get("kind", "company")
    options: list[str] = []
    if len(search) >= 1:
        if kind == "contact":
            rows = Contact.objects.filter(
                Q(email__icontains=search) | Q(first_name__icontains=search) | Q(last_name__icontains=search)
            ).order_by("last_name", "first_name", "id")[:20]
            options = [f"{c.email} (#{c.pk})" for c in rows]
        else:
            rows = Company.objects.filter(name__icontains=search).order_by("name", "id")[:20]
            options = [f"{c.name} (#{c.pk})" for c in rows]
    return render(request, "billing/invoices/_buyer_options.html", {"options": options})


@require_perm(CREATE)
@require_http_methods(["GET", "POST"])
def invoice_new(request):
    form = NewInvoiceForm(request.POST or None, initial={"currency": services._default_currency(None)})
    if request.method == "POST" and form.is_valid():
        company, contact = form.cleaned_data["company"], form.cleaned_data["contact"]
        if company is None and contact is not None:
            company = contact.company
        invoice = services.invoice_create(
            actor=request.user,
            company=company,
            contacts=[contact] if contact else [],
            currency=form.cleaned_data["currency"],
        )
        messages.success(request, _("Draft invoice created. Add line items, then finalize it."))
        return redirect("billing:invoice_detail", invoice.pk)
    return render(request, "billing/invoices/new.html", {"form": form, "active_nav": "invoices"})


@require_perm(CREATE)
@require_POST
def invoice_create_from(request, kind: str, pk: int):
    """A draft from a CRM record: a deal brings its company, contacts and line items."""
    if kind == "deal":
        deal = get_for_user(request.user, Deal.objects.select_related("company"), "accounts.view_crm", pk=pk)
        existing = list(Invoice.objects.filter(deal=deal).order_by("created_at", "pk"))
        if existing and request.POST.get("confirmed") != "1":
            # A deal usually gets one invoice: a second click (or a colleague's) would bill the deal twice.
            return render(
                request,
                "billing/invoices/confirm_another.html",
                {"deal": deal, "existing": existing, "active_nav": "invoices"},
                status=409,
            )
        try:
            invoice = services.invoice_create_from_deal(deal=deal, actor=request.user)
        except ValidationError as exc:
            _errors_to_messages(request, exc)
            return redirect("crm:deal_detail", deal.pk)
    elif kind == "company":
        company = get_for_user(request.user, Company.objects.all(), "accounts.view_crm", pk=pk)
        # The company's contacts become the recipients; the send page lets the user untick any of them.
        contacts = list(company.contacts.exclude(email="").order_by("last_name", "first_name", "id")[:5])
        invoice = services.invoice_create(actor=request.user, company=company, contacts=contacts)
    elif kind == "contact":
        contact = get_for_user(request.user, Contact.objects.select_related("company"), "accounts.view_crm", pk=pk)
        invoice = services.invoice_create(actor=request.user, company=contact.company, contacts=[contact])
    else:
        raise Http404
    messages.success(request, _("Draft invoice created."))
    return redirect("billing:invoice_detail", invoice.pk)


# --- one invoice ------------------------------------------------------------------------------------------------------


def _contact_choices(invoice: Invoice):
    condition = Q(invoices=invoice)
    if invoice.company_id:
        condition |= Q(company_id=invoice.company_id)
    return Contact.objects.filter(condition).distinct().order_by("last_name", "first_name", "id")


def _detail_context(request, invoice: Invoice, **extra) -> dict:
    page = invoice_page(invoice)
    context = {
        "invoice": invoice,
        "page": page,
        "status_text": status_label(page.status),
        "title": str(invoice) if not invoice.is_draft else _("Draft invoice"),
        "active_nav": "invoices",
        "can_edit": request.user.has_perm(EDIT),
        "can_pay": request.user.has_perm(PAYMENTS),
    }
    if invoice.is_draft:
        series = number_series_get(NumberSeries.INVOICE)
        context |= {
            "form": extra.pop("form", None)
            or DraftForm(initial=draft_initial(invoice), contact_choices=_contact_choices(invoice)),
            "finalize_problems": services.invoice_finalize_check(invoice),
            "next_number": number_format(series.prefix, series.next_number),
            **editor_context(request, owner_for("invoice", invoice)),
        }
    else:
        context["document"] = document_for_display(invoice.snapshot)
        context["hosted_url"] = reverse("billing:invoice_hosted", args=[invoice.public_token])
        # What other features offer for this invoice and its credit notes (billing.record_actions).
        context["record_actions"] = invoice_actions(request, invoice)
        for note in page.credit_notes:
            note.record_actions = credit_note_actions(request, note)
    return context | extra


@require_perm(VIEW)
@require_GET
def invoice_detail(request, pk: int):
    invoice = _invoice(request, pk)
    return render(request, "billing/invoices/detail.html", _detail_context(request, invoice))


@require_perm(EDIT)
@require_POST
def invoice_edit(request, pk: int):
    invoice = _invoice(request, pk, EDIT)
    if not invoice.is_draft:
        messages.error(request, _("Invoice %(number)s is finalized and cannot be edited.") % {"number": invoice})
        return redirect("billing:invoice_detail", invoice.pk)
    form = DraftForm(request.POST, contact_choices=_contact_choices(invoice))
    if form.is_valid():
        data = form.cleaned_data
        contacts = list(data["contacts"])
        if data["add_contact"] is not None and data["add_contact"] not in contacts:
            contacts.append(data["add_contact"])
        values = services.DraftValues(
            company=data["company"],
            contacts=contacts,
            currency=data["currency"],
            language=data["language"],
            payment_terms_days=data["payment_terms_days"],
            custom_due_date=data["custom_due_date"],
            payment_methods=data["payment_methods"],
            comments=data["comments"],
        )
        try:
            services.invoice_update_draft(invoice=invoice, values=values, actor=request.user)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Invoice details saved."))
            return redirect("billing:invoice_detail", invoice.pk)
    context = _detail_context(request, invoice, form=form)
    return render(request, "billing/invoices/detail.html", context, status=400)


@require_perm(EDIT)
@require_http_methods(["GET", "POST"])
def invoice_finalize(request, pk: int):
    invoice = _invoice(request, pk, EDIT)
    if not invoice.is_draft:
        messages.info(request, _("Invoice %(number)s is already finalized.") % {"number": invoice.number})
        return redirect("billing:invoice_detail", invoice.pk)
    if request.method == "POST":
        try:
            with idempotent(request, scope="invoice.finalize", target=invoice) as claim:
                if claim.replay:
                    return claim.replay
                invoice = services.invoice_finalize(invoice=invoice, actor=request.user)
                messages.success(request, _("Invoice %(number)s finalized.") % {"number": invoice.number})
                return claim.done(redirect("billing:invoice_detail", invoice.pk))
        except ValidationError as exc:
            _errors_to_messages(request, exc)
    series = number_series_get(NumberSeries.INVOICE)
    return render(
        request,
        "billing/invoices/finalize.html",
        {
            "invoice": invoice,
            "title": _("Finalize invoice"),
            "problems": services.invoice_finalize_check(invoice),
            "next_number": number_format(series.prefix, series.next_number),
            "active_nav": "invoices",
        },
    )


@require_perm(EDIT)
@require_http_methods(["GET", "POST"])
def invoice_delete(request, pk: int):
    invoice = _invoice(request, pk, EDIT)
    if not invoice.is_draft:
        messages.error(request, _("Finalized invoices are never deleted: void it or issue a credit note."))
        return redirect("billing:invoice_detail", invoice.pk)
    if request.method == "POST":
        try:
            services.invoice_delete_draft(invoice=invoice, actor=request.user)
        except ValidationError as exc:
            _errors_to_messages(request, exc)
            return redirect("billing:invoice_detail", invoice.pk)
        messages.success(request, _("Draft deleted."))
        return redirect("billing:invoice_list")
    return render(
        request,
        "billing/invoices/confirm.html",
        {
            "invoice": invoice,
            "title": _("Delete this draft?"),
            "text": _("The draft and its line items are deleted. This cannot be undone."),
            "button": _("Delete draft"),
            "danger": True,
            "active_nav": "invoices",
        },
    )


def _pdf_response(data: bytes, filename: str, *, download: bool) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    disposition = "attachment" if download else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@require_perm(VIEW)
@require_GET
def invoice_pdf(request, pk: int):
    """A finalized invoice's cached PDF, or a draft's pro-forma (rendered fresh, no number)."""
    from billing.pdf import invoice_pdf_bytes

    invoice = _invoice(request, pk)
    name = f"{invoice.number}.pdf" if invoice.number else f"proforma-{invoice.pk}.pdf"
    return _pdf_response(invoice_pdf_bytes(invoice), name, download=request.GET.get("download") == "1")


@require_perm(EDIT)
@require_http_methods(["GET", "POST"])
def invoice_send(request, pk: int):
    invoice = _invoice(request, pk, EDIT)
    recipients = services.invoice_recipients(invoice)
    if request.method == "POST":
        chosen = [email for email in request.POST.getlist("to") if email in recipients]
        if not chosen:
            messages.error(request, _("Choose at least one recipient."))
        else:
            try:
                with idempotent(request, scope="invoice.send", target=invoice, params={"to": set(chosen)}) as claim:
                    if claim.replay:
                        return claim.replay
                    sent = services.invoice_send(invoice=invoice, actor=request.user, recipients=chosen)
                    messages.success(request, _("Invoice sent to %(emails)s.") % {"emails": ", ".join(sent)})
                    return claim.done(redirect("billing:invoice_detail", invoice.pk))
            except ValidationError as exc:
                _errors_to_messages(request, exc)
            return redirect("billing:invoice_detail", invoice.pk)
    return render(
        request,
        "billing/invoices/send.html",
        {
            "invoice": invoice,
            "recipients": recipients,
            "title": _("Send invoice"),
            "active_nav": "invoices",
        },
    )


@require_perm(PAYMENTS)
@require_http_methods(["GET", "POST"])
def invoice_payment_new(request, pk: int):
    invoice = _invoice(request, pk, PAYMENTS)
    page = invoice_page(invoice)
    form = PaymentForm(request.POST or None, initial={"amount": max(page.balance.due, 0)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with idempotent(request, scope="invoice.payment", target=invoice, params=data) as claim:
                if claim.replay:
                    return claim.replay
                payment_services.invoice_record_payment(
                    invoice=invoice,
                    amount=data["amount"],
                    paid_on=data["paid_on"],
                    method=data["method"],
                    reference=data["reference"],
                    actor=request.user,
                )
                messages.success(request, _("Payment recorded."))
                return claim.done(redirect("billing:invoice_detail", invoice.pk))
        except ValidationError as exc:
            form_add_errors(form, exc)
    return render(
        request,
        "billing/invoices/payment.html",
        {
            "invoice": invoice,
            "page": page,
            "form": form,
            "title": _("Record a payment"),
            "active_nav": "invoices",
        },
        status=400 if form.errors else 200,
    )


def _confirm_transition(
    request, invoice: Invoice, *, scope: str, action, title: str, text: str, button: str, form=None
):
    if request.method == "POST" and (form is None or form.is_valid()):
        params = form.cleaned_data if form is not None else None
        try:
            with idempotent(request, scope=scope, target=invoice, params=params) as claim:
                if claim.replay:
                    return claim.replay
                action()
                return claim.done(redirect("billing:invoice_detail", invoice.pk))
        except ValidationError as exc:
            _errors_to_messages(request, exc)
        return redirect("billing:invoice_detail", invoice.pk)
    return render(
        request,
        "billing/invoices/confirm.html",
        {
            "invoice": invoice,
            "title": title,
            "text": text,
            "button": button,
            "danger": True,
            "form": form,
            "active_nav": "invoices",
        },
    )


@require_perm(EDIT)
@require_http_methods(["GET", "POST"])
def invoice_void(request, pk: int):
    invoice = _invoice(request, pk, EDIT)
    form = VoidForm(request.POST or None)

    def action():
        payment_services.invoice_void(invoice=invoice, actor=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, _("Invoice %(number)s voided.") % {"number": invoice.number})

    return _confirm_transition(
        request,
        invoice,
        scope="invoice.void",
        action=action,
        form=form,
        title=_("Void invoice %(number)s?") % {"number": invoice.number},
        text=_("The buyer no longer owes it and reminders stop. Its number stays used. This cannot be undone."),
        button=_("Void invoice"),
    )


@require_perm(EDIT)
@require_http_methods(["GET", "POST"])
def invoice_uncollectible(request, pk: int):
    invoice = _invoice(request, pk, EDIT)

    def action():
        payment_services.invoice_mark_uncollectible(invoice=invoice, actor=request.user)
        messages.success(request, _("Invoice %(number)s marked uncollectible.") % {"number": invoice.number})

    return _confirm_transition(
        request,
        invoice,
        scope="invoice.uncollectible",
        action=action,
        title=_("Mark invoice %(number)s uncollectible?") % {"number": invoice.number},
        text=_("Use this when the buyer will not pay. Reminders stop and the balance counts as bad debt."),
        button=_("Mark uncollectible"),
    )


@require_perm(EDIT)
@require_http_methods(["GET", "POST"])
def credit_note_new(request, pk: int):
    invoice = _invoice(request, pk, EDIT)
    if invoice.is_draft:
        messages.error(request, _("A draft is corrected by editing it, not with a credit note."))
        return redirect("billing:invoice_detail", invoice.pk)
    form = CreditNoteForm(request.POST or None, invoice=invoice)
    page = invoice_page(invoice)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        lines = [
            credit_services.LineCredit(index, data[name]) for index, _line, name in form.line_rows if data.get(name)
        ]
        amounts = [
            credit_services.AmountCredit(
                description=data[f"amount_{row}_description"],
                net=data[f"amount_{row}_net"],
                vat_group=int(data[f"amount_{row}_vat"] or 0),
            )
            for row in form.amount_rows
            if data.get(f"amount_{row}_net") is not None
        ]
        try:
            with idempotent(request, scope="invoice.credit_note", target=invoice, params=data) as claim:
                if claim.replay:
                    return claim.replay
                note = credit_services.credit_note_create(
                    invoice=invoice,
                    actor=request.user,
                    whole=data["mode"] == "whole",
                    lines=[] if data["mode"] == "whole" else lines,
                    amounts=[] if data["mode"] == "whole" else amounts,
                    reason=data["reason"],
                )
                messages.success(request, _("Credit note %(number)s issued.") % {"number": note.number})
                return claim.done(redirect("billing:invoice_detail", invoice.pk))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):  # an amount row's error belongs next to its amount box
                exc = ValidationError(
                    {(f"{key}_net" if key.startswith("amount_") else key): v for key, v in exc.error_dict.items()}
                )
            form_add_errors(form, exc)
    credited = credit_services.credited_quantities(invoice)
    rows = [
        {"index": index, "line": line, "field": form[name], "credited": credited.get(index)}
        for index, line, name in form.line_rows
    ]
    return render(
        request,
        "billing/invoices/credit_note.html",
        {
            "invoice": invoice,
            "page": page,
            "form": form,
            "rows": rows,
            "title": _("Issue a credit note"),
            "document": document_for_display(invoice.snapshot),
            "active_nav": "invoices",
        },
        status=400 if form.errors else 200,
    )


@require_perm(VIEW)
@require_GET
def credit_note_pdf(request, pk: int):
    from billing.pdf import credit_note_pdf_bytes

    note = get_for_user(request.user, CreditNote.objects.select_related("invoice"), VIEW, pk=pk)
    return _pdf_response(credit_note_pdf_bytes(note), f"{note.number}.pdf", download=request.GET.get("download") == "1")


# --- the buyer's hosted page ------------------------------------------------------------------------------------------


class _LinkClosed(Exception):
    def __init__(self, response):
        self.response = response


def _hosted_invoice(request, token: str) -> Invoice:
    """The invoice of a live link. A replaced or expired link answers with a page that says so and whom to ask
    (410 Gone); anything else is a plain 404."""
    invoice = invoice_by_token(token)
    if invoice is not None:
        return invoice
    closed = invoice_link_closed(token)
    if closed is None:
        raise Http404
    invoice, reason = closed
    with translation.override(invoice.language):
        response = render(
            request,
            "billing/invoices/hosted_closed.html",
            {"invoice": invoice, "reason": reason, "seller": (invoice.snapshot or {}).get("seller", {})},
            status=410,
        )
    raise _LinkClosed(hosted_headers(response))


def _closed_links(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except _LinkClosed as closed:
            return closed.response

    return wrapped


@require_perm(EDIT)
@require_http_methods(["GET", "POST"])
def invoice_link_regenerate(request, pk: int):
    """Revoke the buyer's link and make a new one, after a confirmation: the old link stops working at once."""
    invoice = _invoice(request, pk, EDIT)
    if request.method == "POST":
        try:
            with idempotent(request, scope="invoice.link_regenerate", target=invoice) as claim:
                if claim.replay:
                    return claim.replay
                link_services.invoice_link_regenerate(invoice=invoice, actor=request.user)
                messages.success(
                    request, _("The old link no longer works. Send the invoice again to give the buyer the new one.")
                )
                return claim.done(redirect("billing:invoice_detail", invoice.pk))
        except ValidationError as exc:
            _errors_to_messages(request, exc)
            return redirect("billing:invoice_detail", invoice.pk)
    return render(
        request,
        "billing/invoices/confirm.html",
        {
            "invoice": invoice,
            "title": _("Replace the buyer's link?"),
            "text": _(
                "The current link to this invoice, its PDF and its payment page stops working at once; whoever opens "
                "it is told to ask you for a new one. The invoice gets a new link, which goes out when you send it."
            ),
            "button": _("Replace the link"),
            "danger": True,
            "active_nav": "invoices",
        },
    )


def _epc_qr_uri(document: dict, *, amount) -> str:
    """The SEPA transfer QR code for banking apps, for euro invoices with a bank account to pay into."""
    from billing.pdf import epc_qr_data_uri, epc_qr_payload

    bank = document.get("bank", {})
    if document.get("currency") != "EUR" or not bank.get("iban") or amount <= 0:
        return ""
    try:
        payload = epc_qr_payload(
            name=bank.get("holder") or document["seller"]["legal_name"],
            iban=bank["iban"],
            bic=bank.get("bic", ""),
            amount=amount,
            reference=document.get("number") or "",
        )
    except ValueError:  # an amount or account a transfer QR code cannot carry: the details are printed anyway
        return ""
    return epc_qr_data_uri(payload)


@require_GET
@_closed_links
def invoice_hosted(request, token: str):
    invoice = _hosted_invoice(request, token)
    # A staff member checking the link is not the buyer opening it.
    if not (request.user.is_authenticated and request.user.has_perm(VIEW)):
        services.invoice_mark_viewed(invoice=invoice)
    page = invoice_page(invoice)
    buyer_owes = page.balance.due
    if invoice.status == InvoiceStatus.UNCOLLECTIBLE:
        # A write-off is the seller's bookkeeping; to the buyer the invoice is still unpaid.
        page.status = "overdue" if invoice.due_date < timezone.localdate() else "open"
        page.badge = STATUS_BADGES[page.status]
        buyer_owes += page.balance.written_off
    document = document_for_display(invoice.snapshot)
    payable = invoice.status == InvoiceStatus.OPEN and page.balance.due > 0
    qr = _epc_qr_uri(invoice.snapshot, amount=page.balance.due) if payable else ""
    # The buyer reads the invoice in its own language, whatever the seller's staff use.
    with translation.override(invoice.language):
        response = render(
            request,
            "billing/invoices/hosted.html",
            {
                "invoice": invoice,
                "page": page,
                "document": document,
                "payable": payable,
                "buyer_owes": buyer_owes,
                "qr_uri": qr,
                "status_text": status_label(page.status),
                "logo_uri": hosted_logo_uri(invoice.logo_path),
                "pay_url": pay_url_for(invoice) if payable else "",
            },
        )
    return hosted_headers(response)


@require_GET
@_closed_links
def invoice_hosted_pdf(request, token: str):
    from billing.pdf import invoice_pdf_bytes

    invoice = _hosted_invoice(request, token)
    return hosted_headers(_pdf_response(invoice_pdf_bytes(invoice), f"{invoice.number}.pdf", download=True))
