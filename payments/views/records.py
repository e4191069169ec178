"""What finance staff see and do with payments: the index (views, filters, saved views, CSV), a payment's record
page, refunds (with a confirmation step before the money moves) and receipts (PDF, resend)."""

from __future__ import annotations

import csv
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from billing.selectors.receivables import credit_available, invoice_account, invoice_figures
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.forms import form_add_errors
from commerce_hub.idempotency.errors import IdempotencyRefused, KeyMissing
from commerce_hub.idempotency.models import IdempotencyKey
from commerce_hub.idempotency.services import (
    Claim,
    idempotency_fingerprint,
    idempotency_key_claim,
    idempotency_key_complete,
    key_valid,
    target_ref,
)
from commerce_hub.idempotency.web import idempotent, request_key
from commerce_hub.money import money_format, quantize
from commerce_hub.pagination import keyset_page, query_string_without
from commerce_hub.saved_views import services as saved_view_services
from commerce_hub.saved_views.forms import SaveViewForm
from commerce_hub.text import csv_safe
from payments.forms.refunds import RefundForm, mode_label, reason_label
from payments.models import Payment, PaymentStatus, Receipt, RefundMode, RefundStatus
from payments.selectors.payments import (
    DEFAULT_VIEWS,
    PAYMENT_VIEWS,
    SORTS,
    method_text,
    payment_index_query,
    payment_page,
    payment_rows,
    payment_rows_decorate,
    payment_saved_views,
)
from payments.services.refunds import payment_refundable, refund_request

VIEW = "accounts.view_payments"
REFUNDS = "accounts.manage_refunds"
MANAGE = "accounts.manage_payments"
PAGE_SIZE = 50
EXPORT_CHUNK = 2000
DISPUTE_PANEL = "payments/disputes/_panel.html"
EMPTY = {
    "all": (gettext_lazy("No payments yet"), gettext_lazy("Payments buyers make on invoices appear here.")),
    "succeeded": (gettext_lazy("No succeeded payments yet"), gettext_lazy("Payments appear here once they succeed.")),
    "in_progress": (
        gettext_lazy("Nothing in progress"),
        gettext_lazy("Bank debits being processed and payments waiting for the buyer appear here."),
    ),
    "failed": (gettext_lazy("No failed payments"), gettext_lazy("Declined and cancelled payments appear here.")),
    "refunded": (gettext_lazy("No refunds yet"), gettext_lazy("Payments you refund, fully or in part, appear here.")),
    "disputed": (gettext_lazy("No disputes"), gettext_lazy("Payments a buyer's bank disputes appear here.")),
}
EMPTY_FILTERED = (
    gettext_lazy("Nothing matches this view"),
    gettext_lazy("Change the filters or the search, or pick another view."),
)


def _payment(request, pk: int, perm: str = VIEW) -> Payment:
    """The access-checked getter: another tenant's payment is not in this schema at all, so it is a plain 404."""
    return get_for_user(request.user, payment_rows(), perm, pk=pk)


# --- the index -------------------------------------------------------------------------------------------------------


@require_perm(VIEW)
@require_GET
def payment_index(request):
    index = payment_index_query(params=request.GET, user=request.user)
    page = keyset_page(index.queryset, ordering=index.ordering, cursor=request.GET.get("after"), size=PAGE_SIZE)
    payment_rows_decorate(page.rows)
    empty_title, empty_text = (
        EMPTY_FILTERED if (index.search or index.active_filters or index.scope) else EMPTY[index.base]
    )
    context = {
        "index": index,
        "page": page,
        "query": query_string_without(request.GET, "after"),
        "query_without_sort": query_string_without(request.GET, "after", "sort"),
        "default_views": DEFAULT_VIEWS,
        "sorts": {key: label for key, (_column, label) in SORTS.items()},
        "saved_views": payment_saved_views(request.user),
        "save_form": SaveViewForm(),
        "empty_title": empty_title,
        "empty_text": empty_text,
        "filter_errors": [e for errors in index.filterset.errors.values() for e in errors],
        "active_nav": "payments",
    }
    # The search box asks for the results only (htmx); a link or a reload gets the whole page.
    template = "payments/payments/_index_results.html" if request.htmx else "payments/payments/index.html"
    return render(request, template, context)


class _Echo:
    def write(self, value):
        return value


EXPORT_COLUMNS = [
    gettext_lazy("Date"),
    gettext_lazy("Payment ID"),
    gettext_lazy("Status"),
    gettext_lazy("Customer"),
    gettext_lazy("Buyer email"),
    gettext_lazy("Method"),
    gettext_lazy("Currency"),
    gettext_lazy("Amount"),
    gettext_lazy("Fee"),
    gettext_lazy("Net"),
    gettext_lazy("Refunded"),
    gettext_lazy("Invoice"),
    gettext_lazy("Deal"),
    gettext_lazy("Processor"),
    gettext_lazy("Processor reference"),
]


def _amount(value: Decimal | None, currency: str) -> str:
    # Machine-readable: a dot, the currency's decimals, no grouping, whatever the reader's language.
    return "" if value is None else f"{quantize(value, currency):f}"


def _export_row(row: Payment) -> list[str]:
    cur = row.currency
    return [
        timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M"),
        row.public_id,
        row.status_label,
        row.customer_name,
        row.buyer_email or (row.contact.email if row.contact_id else ""),
        row.method_text,
        cur,
        _amount(row.amount, cur),
        _amount(row.fee, cur),
        _amount(row.net, cur),
        _amount(row.refunded_total, cur),
        row.invoice.number if row.invoice_id and row.invoice.number else "",
        row.deal.name if row.deal_id else "",
        row.get_processor_display(),
        row.processor_reference or "",
    ]


# Every buyer's email and every amount: people who may export, on top of seeing payments.
@require_perm(VIEW, "accounts.export_data")
@require_GET
def payment_export(request):
    """Streams every row of the current view in its order, walking the keyset (no OFFSET, no COUNT)."""
    index = payment_index_query(params=request.GET, user=request.user)
    writer = csv.writer(_Echo())
    header = [csv_safe(str(label)) for label in EXPORT_COLUMNS]
    audit_record(
        actor=request.user,
        action="payment.exported",
        object_type="payments.payment",
        after={"query": query_string_without(request.GET, "after"), "view": index.view},
    )

    def rows():
        yield "\ufeff" + writer.writerow(header)
        cursor = None
        while True:
            page = keyset_page(index.queryset, ordering=index.ordering, cursor=cursor, size=EXPORT_CHUNK)
            for row in payment_rows_decorate(page.rows):
                yield writer.writerow([csv_safe(value) for value in _export_row(row)])
            if not page.next_cursor:
                break
            cursor = page.next_cursor

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="payments-{stamp}.csv"'
    return response


@require_perm(VIEW)
@require_POST
def payment_view_save(request):
    form = SaveViewForm(request.POST)
    query = request.POST.get("query", "")
    back = f"{reverse('payments:payment_index')}?{query}"
    if not form.is_valid():
        messages.error(request, _("Give the view a name."))
        return redirect(back)
    try:
        view = saved_view_services.saved_view_create(
            index=PAYMENT_VIEWS,
            name=form.cleaned_data["name"],
            query=query,
            shared=form.cleaned_data["shared"],
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{reverse('payments:payment_index')}?view={view.pk}")


@require_perm(VIEW)
@require_http_methods(["GET", "POST"])
def payment_view_delete(request, pk: int):
    """GET asks, POST deletes: the link works without JavaScript and still never deletes on one click."""
    view = get_for_user(request.user, payment_saved_views(request.user), VIEW, pk=pk)
    try:
        if request.method == "GET":
            saved_view_services.saved_view_check_delete(view=view, actor=request.user)
            return render(request, "payments/payments/view_delete.html", {"view": view, "active_nav": "payments"})
        saved_view_services.saved_view_delete(index=PAYMENT_VIEWS, view=view, actor=request.user)
    except ValidationError as exc:
        raise PermissionDenied(" ".join(exc.messages)) from exc
    messages.success(request, _("View deleted."))
    return redirect("payments:payment_index")


# --- the record page -------------------------------------------------------------------------------------------------


def _dispute_panel() -> str:
    """The disputes panel of the record page, once its template exists; until then the page lists them itself."""
    try:
        get_template(DISPUTE_PANEL)
    except TemplateDoesNotExist:
        return ""
    return DISPUTE_PANEL


def _customer_credit(payment: Payment) -> Decimal:
    account = invoice_account(payment.invoice) if payment.invoice_id else None
    return credit_available(account, payment.currency) if account else Decimal(0)


def _refund_form(payment: Payment, data=None, *, refundable: Decimal | None = None) -> RefundForm:
    if refundable is None:
        refundable = _refundable(payment)
    return RefundForm(data, payment=payment, refundable=refundable, credit=_customer_credit(payment))


def _refundable(payment: Payment) -> Decimal:
    return max(payment_refundable(payment), Decimal(0)) if payment.status == PaymentStatus.SUCCEEDED else Decimal(0)


def _record_context(request, payment: Payment, **extra) -> dict:
    page = payment_page(payment, refundable=_refundable(payment))
    can_refund = request.user.has_perm(REFUNDS) and payment.status == PaymentStatus.SUCCEEDED and page.refundable > 0
    context = {
        "payment": payment,
        "page": page,
        "invoice_figures": invoice_figures(payment.invoice) if payment.invoice_id else None,
        "can_refund": can_refund,
        "can_manage": request.user.has_perm(MANAGE),
        "dispute_panel": _dispute_panel(),
        "active_nav": "payments",
    }
    if can_refund and "form" not in extra:
        context["form"] = _refund_form(payment, refundable=page.refundable)
    context.update(extra)
    return context


@require_perm(VIEW)
@require_GET
def payment_detail(request, pk: int):
    payment = _payment(request, pk)
    return render(request, "payments/payments/detail.html", _record_context(request, payment))


# --- refunds ---------------------------------------------------------------------------------------------------------


def _claim_committed(request, *, scope: str, target, params: dict, retry_url: str) -> Claim:
    """Claim the form's idempotency key in a transaction of its own, committed before the processor is called.

    A refund calls the processor, which never happens inside a transaction, so the key cannot share the refund's
    transaction as `idempotent` arranges for plain writes. The claim commits "in progress" first; a second submit of
    the same form meanwhile is told it is still being processed, and once the refund is recorded the key holds the
    answer (the record page), which a later submit gets back without refunding again."""
    key = request_key(request)
    if not key_valid(key):
        raise KeyMissing(retry_url=retry_url)
    user_id = request.user.pk
    try:
        with transaction.atomic():
            return idempotency_key_claim(
                scope=scope,
                key=key,
                fingerprint=idempotency_fingerprint(params=params, target=target, user_id=user_id),
                target=target_ref(target),
                user_id=user_id,
            )
    except IdempotencyRefused as exc:
        exc.retry_url = exc.retry_url or retry_url
        raise


def _refund_submit(request, payment: Payment, form: RefundForm, back: str) -> HttpResponse | None:
    """Move the money. Returns the answer, or None when the service refused (its errors are on the form)."""
    data = form.cleaned_data
    params = {k: data[k] for k in ("amount", "mode", "reason", "note")}
    claim = _claim_committed(request, scope="payment.refund", target=payment, params=params, retry_url=back)
    if not claim.first:
        messages.info(request, _("That was already done; nothing was repeated."))
        return redirect(claim.row.response_location or back)
    try:
        refund = refund_request(payment=payment, actor=request.user, **params)
    except ValidationError as exc:
        # Refused before anything was written: free the key, so the corrected form can be sent again.
        IdempotencyKey.objects.filter(pk=claim.row.pk, status=IdempotencyKey.Status.IN_PROGRESS).delete()
        form_add_errors(form, exc)
        return None
    amount = money_format(refund.amount, refund.currency)
    if refund.status == RefundStatus.SUCCEEDED:
        messages.success(request, _("%(amount)s refunded.") % {"amount": amount})
    elif refund.status == RefundStatus.FAILED:
        messages.error(
            request,
            _("The refund of %(amount)s failed: %(reason)s") % {"amount": amount, "reason": refund.failure_message},
        )
    else:
        messages.info(
            request,
            _("The refund of %(amount)s is on its way; the processor has not confirmed it yet.") % {"amount": amount},
        )
    with transaction.atomic():
        idempotency_key_complete(row=claim.row, status=302, location=back)
    return redirect(back)


@require_perm(VIEW, REFUNDS)
@require_http_methods(["GET", "POST"])
def refund_new(request, pk: int):
    """Step one checks the form and shows what will happen; step two (confirm=1, with the form's one-time key)
    refunds. With htmx both steps swap the refund panel of the record page; without it they are pages of their own."""
    payment = _payment(request, pk, REFUNDS)
    back = reverse("payments:payment_detail", args=[payment.pk])
    if payment.status != PaymentStatus.SUCCEEDED:
        messages.error(request, _("Only a succeeded payment can be refunded."))
        return HttpResponseClientRedirect(back) if request.htmx else redirect(back)
    form = _refund_form(payment, request.POST if request.method == "POST" else None)
    confirm = False
    # "Back" from the confirmation shows the form again with what was entered.
    if request.method == "POST" and request.POST.get("edit") != "1" and form.is_valid():
        if request.POST.get("confirm") == "1":
            response = _refund_submit(request, payment, form, back)
            if response is not None:
                return HttpResponseClientRedirect(response["Location"]) if request.htmx else response
        else:
            confirm = True
    context = {
        "payment": payment,
        "form": form,
        "confirm": confirm,
        "back": back,
        "active_nav": "payments",
    }
    if confirm:
        data = form.cleaned_data
        left = form.refundable - data["amount"]
        context.update(
            amount_text=money_format(data["amount"], payment.currency),
            left_text=money_format(left, payment.currency),
            mode=data["mode"],
            mode_text=mode_label(data["mode"]),
            reason_text=reason_label(data["reason"]),
            method_text=method_text(payment.method, payment.method_details),
            full=left == 0,
            reopen=data["mode"] == RefundMode.REOPEN,
        )
    if request.htmx:
        # htmx swaps only 2xx answers: errors come back as a 200 panel with the messages next to the fields.
        return render(request, "payments/refunds/_panel.html", context)
    return render(request, "payments/refunds/new.html", context, status=400 if form.errors else 200)


# --- receipts --------------------------------------------------------------------------------------------------------


def _receipt(request, pk: int, perm: str = VIEW) -> Receipt:
    payment = _payment(request, pk, perm)
    receipt = Receipt.objects.select_related("payment").filter(payment=payment).first()
    if receipt is None:
        from django.http import Http404

        raise Http404
    return receipt


@require_perm(VIEW)
@require_GET
def receipt_pdf(request, pk: int):
    from payments.receipts_pdf import receipt_pdf_bytes

    receipt = _receipt(request, pk)
    response = HttpResponse(receipt_pdf_bytes(receipt), content_type="application/pdf")
    disposition = "attachment" if request.GET.get("download") == "1" else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{receipt.number}.pdf"'
    return response


@require_perm(VIEW, MANAGE)
@require_POST
def receipt_send(request, pk: int):
    from payments.services.receipts import receipt_send as send

    receipt = _receipt(request, pk, MANAGE)
    back = reverse("payments:payment_detail", args=[receipt.payment_id])
    to = request.POST.get("to", "").strip()[:254]
    try:
        with idempotent(request, scope="receipt.send", target=receipt, params={"to": to}, retry_url=back) as claim:
            if claim.replay:
                return claim.replay
            sent_to = send(receipt=receipt, actor=request.user, to=to)
            messages.success(
                request, _("Receipt %(number)s sent to %(to)s.") % {"number": receipt.number, "to": sent_to}
            )
            return claim.done(redirect(back))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect(back)
