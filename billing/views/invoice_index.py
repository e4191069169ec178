"""The invoices index (default and saved views, filters, totals, aging), its CSV export and its saved views."""

import csv
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing.selectors.invoice_index import (
    AGING_BUCKETS,
    DEFAULT_VIEWS,
    SORTS,
    invoice_aging,
    invoice_export_rows,
    invoice_index_query,
    invoice_index_totals,
    invoice_rows_decorate,
)
from billing.selectors.invoice_views import invoice_saved_views
from billing.services.invoice_views import (
    invoice_saved_view_check_delete,
    invoice_saved_view_create,
    invoice_saved_view_delete,
)
from commerce_hub.access import get_for_user, require_perm
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.money import quantize
from commerce_hub.pagination import keyset_page, query_string_without
from commerce_hub.saved_views.forms import SaveViewForm
from commerce_hub.text import csv_safe

VIEW = "accounts.view_invoices"
PAGE_SIZE = 50
EXPORT_CHUNK = 2000
EMPTY = {
    "all": (gettext_lazy("No invoices yet"), gettext_lazy("Invoices you create or finalize appear here.")),
    "drafts": (gettext_lazy("No drafts"), gettext_lazy("Drafts you start appear here until they are finalized.")),
    "open": (gettext_lazy("No open invoices"), gettext_lazy("Nothing is waiting to be paid.")),
    "overdue": (gettext_lazy("No overdue invoices — nice."), gettext_lazy("Every open invoice is within its terms.")),
    "due_this_month": (
        gettext_lazy("Nothing due this month"),
        gettext_lazy("No open invoice falls due before the month ends."),
    ),
    "paid": (gettext_lazy("No paid invoices yet"), gettext_lazy("Invoices appear here once they are paid in full.")),
    "aging": (
        gettext_lazy("No overdue invoices — nice."),
        gettext_lazy("Aging shows open invoices past their due date."),
    ),
}
EMPTY_FILTERED = (
    gettext_lazy("Nothing matches this view"),
    gettext_lazy("Change the filters or the search, or pick another view."),
)


def _bucket_links(request) -> dict[str, str]:
    links = {}
    for key, _low, _high in AGING_BUCKETS:
        params = request.GET.copy()
        params.pop("after", None)
        params["bucket"] = key
        links[key] = params.urlencode()
    return links


@require_perm(VIEW)
@require_GET
def invoice_list(request):
    index = invoice_index_query(params=request.GET, user=request.user)
    page = keyset_page(index.queryset, ordering=index.ordering, cursor=request.GET.get("after"), size=PAGE_SIZE)
    invoice_rows_decorate(page.rows, today=index.today)
    aging = None
    if index.base == "aging":
        links = _bucket_links(request)
        aging = [(bucket, links[bucket.key]) for bucket in invoice_aging(index.unbucketed, today=index.today)]
    filtered = bool(index.search or index.active_filters or index.scope or index.bucket)
    empty_title, empty_text = EMPTY_FILTERED if filtered else EMPTY[index.base]
    return render(
        request,
        "billing/invoices/index.html",
        {
            "index": index,
            "page": page,
            # The totals of every matching row come in a second request (htmx), so a view of a hundred thousand
            # invoices shows its first page at once: summing their balances is what takes time.
            "totals_query": query_string_without(request.GET, "after", "sort"),
            "aging": aging,
            "query": query_string_without(request.GET, "after"),
            "query_without_sort": query_string_without(request.GET, "after", "sort"),
            "query_without_view": query_string_without(request.GET, "after", "view", "bucket"),
            "query_without_bucket": query_string_without(request.GET, "after", "bucket"),
            "default_views": DEFAULT_VIEWS,
            "sorts": SORTS,
            "saved_views": invoice_saved_views(request.user),
            "save_form": SaveViewForm(),
            "empty_title": empty_title,
            "empty_text": empty_text,
            "filter_errors": [e for errors in index.filterset.errors.values() for e in errors],
            "active_nav": "invoices",
        },
    )


@require_perm(VIEW)
@require_GET
def invoice_list_totals(request):
    """The total and balance due of the whole view, per currency (the footer of the invoices table)."""
    index = invoice_index_query(params=request.GET, user=request.user)
    context = {"totals": invoice_index_totals(index.queryset), "index": index, "active_nav": "invoices"}
    template = "billing/invoices/_index_totals.html" if request.htmx else "billing/invoices/totals_page.html"
    return render(request, template, context)


# --- CSV export -------------------------------------------------------------------------------------------------------


class _Echo:
    def write(self, value):
        return value


EXPORT_COLUMNS = [
    gettext_lazy("Invoice number"),
    gettext_lazy("Status"),
    gettext_lazy("Invoice date"),
    gettext_lazy("Due date"),
    gettext_lazy("Buyer name"),
    gettext_lazy("Buyer VAT number"),
    gettext_lazy("Buyer country"),
    gettext_lazy("Currency"),
    gettext_lazy("Net amount"),
    gettext_lazy("VAT amount"),
    gettext_lazy("Total"),
    gettext_lazy("Paid"),
    gettext_lazy("Credited"),
    gettext_lazy("Balance due"),
    gettext_lazy("Days overdue"),
    gettext_lazy("Reference"),
]


def _amount(value: Decimal | None, currency: str) -> str:
    # Machine-readable: a dot, the currency's decimals, no grouping or sign, whatever the reader's language.
    return "" if value is None else f"{quantize(value, currency):f}"


def _export_row(invoice) -> list[str]:
    # A finalized invoice is exported as it was issued (its snapshot); a draft has no snapshot yet.
    finalized, cur = invoice.snap_total is not None, invoice.currency
    net = vat = ""
    if finalized:
        vat_total = Decimal(invoice.snap_vat or "0")
        net, vat = _amount(Decimal(invoice.snap_total) - vat_total, cur), _amount(vat_total, cur)
    company = invoice.company if invoice.company_id else None
    return [
        invoice.number or "",
        str(invoice.status_label),
        invoice.issue_date.isoformat() if invoice.issue_date else "",
        invoice.due_date.isoformat() if invoice.due_date else "",
        invoice.snap_buyer_name if finalized else invoice.buyer_name,
        invoice.snap_buyer_vat if finalized else (company.vat_number if company else ""),
        invoice.snap_buyer_country if finalized else (company.country if company else ""),
        invoice.currency,
        net,
        vat,
        _amount(invoice.total, cur),
        _amount(invoice.paid_amount, cur),
        _amount(invoice.credited_amount, cur),
        _amount(invoice.balance_due, cur),
        str(invoice.days_overdue),
        invoice.number or "",
    ]


# An invoice export carries every buyer's VAT number and balance: finance staff (who edit invoices) only, not
# everyone who may export CRM lists.
@require_perm(VIEW, "accounts.export_data", "accounts.edit_invoices")
@require_GET
def invoice_export(request):
    """Streams every row of the current view in its order, walking the keyset (no OFFSET)."""
    index = invoice_index_query(params=request.GET, user=request.user)
    queryset = invoice_export_rows(index.queryset)
    writer = csv.writer(_Echo())
    # Translated now, in the reader's language: the rows are written after the view has returned.
    header = [csv_safe(str(label)) for label in EXPORT_COLUMNS]
    audit_record(
        actor=request.user,
        action="invoice.exported",
        object_type="billing.invoice",
        after={"query": query_string_without(request.GET, "after"), "view": index.view},
    )

    def rows():
        yield "\ufeff" + writer.writerow(header)
        cursor = None
        while True:
            page = keyset_page(queryset, ordering=index.ordering, cursor=cursor, size=EXPORT_CHUNK)
            for invoice in invoice_rows_decorate(page.rows, today=index.today):
                yield writer.writerow([csv_safe(value) for value in _export_row(invoice)])
            if not page.next_cursor:
                break
            cursor = page.next_cursor

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="invoices-{stamp}.csv"'
    return response


# --- saved views ------------------------------------------------------------------------------------------------------


@require_perm(VIEW)
@require_POST
def invoice_view_save(request):
    form = SaveViewForm(request.POST)
    query = request.POST.get("query", "")
    back = f"{reverse('billing:invoice_list')}?{query}"
    if not form.is_valid():
        messages.error(request, _("Give the view a name."))
        return redirect(back)
    try:
        view = invoice_saved_view_create(
            name=form.cleaned_data["name"], query=query, shared=form.cleaned_data["shared"], actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(f"{reverse('billing:invoice_list')}?view={view.pk}")


@require_perm(VIEW)
@require_http_methods(["GET", "POST"])
def invoice_view_delete(request, pk: int):
    """GET asks, POST deletes: the link works without JavaScript and still never deletes on one click."""
    view = get_for_user(request.user, invoice_saved_views(request.user), VIEW, pk=pk)
    try:
        if request.method == "GET":
            invoice_saved_view_check_delete(view=view, actor=request.user)
            context = {"view": view, "active_nav": "invoices"}
            return render(request, "billing/invoices/_index_view_delete.html", context)
        invoice_saved_view_delete(view=view, actor=request.user)
    except ValidationError as exc:
        raise PermissionDenied(" ".join(exc.messages)) from exc
    messages.success(request, _("View deleted."))
    return redirect("billing:invoice_list")
