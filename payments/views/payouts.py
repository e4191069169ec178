"""The payouts pages: balances, recent payouts, each payout's ledger rows, the CSV for bank reconciliation, and the
admin's "Pay out now" for the manual schedule."""

from __future__ import annotations

import csv
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from commerce_hub.access import get_for_user, require_perm
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.idempotency.web import idempotent
from commerce_hub.money import money_format, quantize
from commerce_hub.pagination import keyset_page, query_string_without
from commerce_hub.text import csv_safe
from payments.models import PayoutSchedule, ProcessorKey
from payments.selectors.balance import balances
from payments.selectors.payouts import (
    PAYOUT_ORDERING,
    ROW_ORDERING,
    payment_url,
    payout_chart,
    payout_entries,
    payout_entries_total,
    payout_list,
    payout_row,
)
from payments.selectors.settings import payment_settings
from payments.services.payouts import payout_now as payout_now_service

VIEW = "accounts.view_payments"
EXPORT = "accounts.export_data"
# Paying out by hand moves the tenant's money: admins only (the one permission no other role has by default).
PAY_OUT = "accounts.manage_settings"
PAGE_SIZE = 50
ROWS_PAGE_SIZE = 200
EXPORT_CHUNK = 2000

EXPORT_COLUMNS = [
    gettext_lazy("Payout"),
    gettext_lazy("Date"),
    gettext_lazy("Available on"),
    gettext_lazy("Type"),
    gettext_lazy("Payment"),
    gettext_lazy("Invoice"),
    gettext_lazy("Description"),
    gettext_lazy("Currency"),
    gettext_lazy("Amount"),
]


def schedule_text(settings) -> str:
    """The built-in processor's payout schedule in a sentence."""
    delay = ngettext(
        "Money becomes available for payout %(days)s day after it is collected.",
        "Money becomes available for payout %(days)s days after it is collected.",
        settings.settlement_delay_days,
    ) % {"days": settings.settlement_delay_days}
    if settings.payout_schedule == PayoutSchedule.DAILY:
        when = _("Paid out every day.")
    elif settings.payout_schedule == PayoutSchedule.WEEKLY:
        when = _("Paid out every %(weekday)s.") % {"weekday": WEEKDAYS.get(settings.payout_weekday, "")}
    elif settings.payout_schedule == PayoutSchedule.MONTHLY:
        when = _("Paid out on day %(day)s of each month.") % {"day": settings.payout_monthday}
    else:
        when = _("Paid out when an admin presses “Pay out now”.")
    return f"{when} {delay}"


@require_perm(VIEW)
@require_GET
def payout_index(request):
    settings = payment_settings()
    today = timezone.localdate()
    page = keyset_page(payout_list(), ordering=PAYOUT_ORDERING, cursor=request.GET.get("after"), size=PAGE_SIZE)
    return render(
        request,
        "payments/payouts/index.html",
        {
            "balances": balances(today=today),
            "page": page,
            "query": query_string_without(request.GET, "after"),
            "chart": payout_chart(today=today) if page.is_first else [],
            "settings": settings,
            "schedule_text": schedule_text(settings),
            "computes_payouts": settings.processor == ProcessorKey.BUILTIN,
            "can_pay_out": settings.payout_schedule == PayoutSchedule.MANUAL
            and settings.processor == ProcessorKey.BUILTIN
            and request.user.has_perm(PAY_OUT),
            "active_nav": "payouts",
        },
    )


@require_perm(VIEW)
@require_GET
def payout_detail(request, pk: int):
    payout = get_for_user(request.user, payout_list(), VIEW, pk=pk)
    page = keyset_page(
        payout_entries(payout), ordering=ROW_ORDERING, cursor=request.GET.get("after"), size=ROWS_PAGE_SIZE
    )
    rows = []
    for entry in page.rows:
        row = payout_row(entry)
        rows.append((row, payment_url(row.payment_id)))
    return render(
        request,
        "payments/payouts/detail.html",
        {
            "payout": payout,
            "rows": rows,
            "page": page,
            "query": query_string_without(request.GET, "after"),
            "rows_total": payout_entries_total(payout),
            "is_builtin": payout.processor == ProcessorKey.BUILTIN,
            "title": _("Payout of %(amount)s") % {"amount": money_format(payout.amount, payout.currency)},
            "active_nav": "payouts",
        },
    )


class _Echo:
    def write(self, value):
        return value


def _amount(value: Decimal, currency: str, *, decimal_comma: bool) -> str:
    # Machine-readable: the currency's decimals, no grouping; a decimal comma only for the spreadsheet variant.
    text = f"{quantize(value, currency):f}"
    return text.replace(".", ",") if decimal_comma else text


def payout_export_row(row, payout, *, decimal_comma: bool = False) -> list[str]:
    # Text that came from people (buyer names) is defused for spreadsheets; the amount is ours and stays a number.
    text = [row.kind_label, row.payment_reference, row.invoice_number, row.description, row.entry.currency]
    return [
        str(payout.pk),
        row.date.isoformat(),
        row.entry.available_on.isoformat(),
        *(csv_safe(value) for value in text),
        _amount(row.amount, row.entry.currency, decimal_comma=decimal_comma),
    ]


@require_perm(VIEW, EXPORT)
@require_GET
def payout_export(request, pk: int):
    """The payout's ledger rows as CSV for bank reconciliation. `?format=excel` writes semicolons and decimal
    commas, which spreadsheets set to Dutch or Norwegian open without an import step."""
    payout = get_for_user(request.user, payout_list(), VIEW, pk=pk)
    excel = request.GET.get("format") == "excel"
    writer = csv.writer(_Echo(), delimiter=";" if excel else ",")
    # Translated now, in the reader's language: the rows are written after the view has returned.
    header = [csv_safe(str(label)) for label in EXPORT_COLUMNS]
    entries = payout_entries(payout)
    audit_record(
        actor=request.user,
        action="payout.exported",
        obj=payout,
        object_repr=f"{payout.amount:f} {payout.currency} {payout.arrival_date}",
        after={"format": "excel" if excel else "csv"},
    )
    # Kind labels are translated when a row is written, after this view has returned: keep the reader's language.
    language = translation.get_language()

    def lines():
        yield "\ufeff" + writer.writerow(header)
        with translation.override(language):
            for entry in entries.iterator(chunk_size=EXPORT_CHUNK):
                yield writer.writerow(payout_export_row(payout_row(entry), payout, decimal_comma=excel))

    stamp = payout.period_end or payout.arrival_date
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    suffix = "-excel" if excel else ""
    response["Content-Disposition"] = f'attachment; filename="payout-{payout.pk}-{stamp:%Y%m%d}{suffix}.csv"'
    return response


@require_perm(VIEW, PAY_OUT)
@require_POST
def payout_now(request):
    back = reverse("payments:payout_index")
    try:
        with idempotent(request, scope="payout.now", retry_url=back) as claim:
            if claim.replay:
                return claim.replay
            payouts = payout_now_service(actor=request.user)
            amounts = ", ".join(money_format(p.amount, p.currency) for p in payouts)
            messages.success(request, _("Payout made: %(amounts)s.") % {"amounts": amounts})
            target = reverse("payments:payout_detail", args=[payouts[0].pk]) if len(payouts) == 1 else back
            return claim.done(redirect(target))
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    return redirect(back)
