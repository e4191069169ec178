"""The invoices index for finance staff: default views, filters, search, sort, saved views, the view's totals per
currency and the aging buckets, and the invoices panel of CRM records.

As in the CRM index (crm/index.py) a view's whole state lives in its query string: a saved view is a saved query
string and the CSV export walks exactly the rows on screen. Overdue and partially paid are derived, never stored:
overdue is open with a due date before the tenant's today; partially paid is open, not overdue, with money received
or credited. Amounts of different currencies are never added together.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import django_filters
from django import forms
from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Coalesce, Concat
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice, InvoiceStatus
from billing.selectors.invoice_views import invoice_saved_views
from billing.selectors.receivables import (
    DISPLAY_STATUS_LABELS,
    DISPLAY_STATUSES,
    display_status_filter,
    with_figures,
)
from billing.selectors.receivables import (
    MONEY_OUTPUT as _MONEY,
)
from commerce_hub.text import MAX_ID, clean_search, is_id
from crm.models import Company, Contact, Deal

OPEN = InvoiceStatus.OPEN

DEFAULT_VIEWS = [
    ("all", _("All")),
    ("drafts", _("Drafts")),
    ("open", _("Open")),
    ("overdue", _("Overdue")),
    ("due_this_month", _("Due this month")),
    ("paid", _("Paid")),
    ("aging", _("Aging")),
]
VIEW_KEYS = {key for key, _label in DEFAULT_VIEWS}
# Views that hold finalized invoices only. Those always have a number, an invoice date, a due date and a total
# (invoice_finalize sets them and the guard trigger freezes them), so they sort on the plain columns, which the
# indexes serve; views that may hold drafts sort on NOT NULL stand-ins instead.
FINALIZED_VIEWS = {"open", "overdue", "due_this_month", "paid", "aging"}
DEFAULT_SORT = {
    "all": "-created",
    "drafts": "-created",
    "open": "due_date",
    "overdue": "due_date",
    "due_this_month": "due_date",
    "paid": "-issue_date",
    "aging": "due_date",
}
SORTS = {
    "number": _("Number"),
    "issue_date": _("Invoice date"),
    "due_date": _("Due date"),
    "total": _("Total"),
    "balance": _("Balance due"),
}
# Days overdue, inclusive; the last bucket is open-ended (91 days and more).
AGING_BUCKETS = [("1-30", 1, 30), ("31-60", 31, 60), ("61-90", 61, 90), ("90+", 91, None)]
AGING_LABELS = {
    "1-30": _("1–30 days"),
    "31-60": _("31–60 days"),
    "61-90": _("61–90 days"),
    "90+": _("Over 90 days"),
}
STATUS_CHOICES = DISPLAY_STATUSES
STATUS_LABELS = DISPLAY_STATUS_LABELS
MAX_DAYS = 36500
RECORD_FILTERS = {"company": "company_id", "contact": "contact_id", "deal": "deal_id"}


def due_date_window(today: date, low_days: int | None, high_days: int | None) -> Q:
    """Open invoices between low_days and high_days overdue (inclusive), as a due date range the index serves."""
    condition = Q(status=OPEN)
    if low_days:
        condition &= Q(due_date__lte=today - timedelta(days=low_days))
    if high_days is not None:
        condition &= Q(due_date__gte=today - timedelta(days=high_days))
    return condition


def month_bounds(today: date) -> tuple[date, date]:
    return today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1])


def _view_condition(view: str, today: date) -> Q:
    if view == "drafts":
        return Q(status=InvoiceStatus.DRAFT)
    if view == "open":
        return Q(status=OPEN)
    if view in ("overdue", "aging"):
        return Q(status=OPEN, due_date__lt=today)
    if view == "due_this_month":
        first, last = month_bounds(today)
        return Q(status=OPEN, due_date__range=(first, last))
    if view == "paid":
        return Q(status=InvoiceStatus.PAID, display_status="paid")  # a fully credited invoice was not paid
    return Q()


def sort_expression(key: str, *, finalized_only: bool):
    """A NOT NULL expression per sort key, so keyset pagination can compare it; drafts sort lowest."""
    if key == "created":
        return F("created_at")
    if key == "balance":
        return F("balance_due")
    column = {"number": "sequence", "issue_date": "issue_date", "due_date": "due_date", "total": "total"}[key]
    if finalized_only:
        return F(column)
    stand_in = {
        "sequence": (Value(0), BigIntegerField()),
        "issue_date": (Value(date(1, 1, 1)), DateField()),
        "due_date": (Value(date(1, 1, 1)), DateField()),
        "total": (Value(Decimal("-1")), _MONEY),
    }[column]
    return Coalesce(F(column), stand_in[0], output_field=stand_in[1])


def invoice_rows(*, today: date | None = None) -> QuerySet[Invoice]:
    """Invoices with what an index row shows, in one query: the company joined, the ledger figures and the derived
    status (billing/selectors/receivables.py, the one definition), and the first contact's name (the buyer when
    there is no company). The snapshot stays unread: it can be large."""
    first_contact = (
        Contact.objects.filter(invoices=OuterRef("pk"))
        .order_by("last_name", "first_name", "id")
        .annotate(name=Concat("first_name", Value(" "), "last_name", output_field=CharField()))
        .values("name")[:1]
    )
    return with_figures(
        Invoice.objects.select_related("company")
        .defer("snapshot")
        .annotate(
            buyer_contact=Case(
                When(company__isnull=True, then=Subquery(first_contact)), default=Value(""), output_field=CharField()
            ),
        ),
        today=today,
    )


class _DaysRangeField(django_filters.fields.RangeField):
    def __init__(self, *args, **kwargs):
        bound = {"min_value": 0, "max_value": MAX_DAYS}
        super().__init__((forms.IntegerField(**bound), forms.IntegerField(**bound)), *args, **kwargs)


class _DaysRangeFilter(django_filters.RangeFilter):
    field_class = _DaysRangeField


class _MoneyRangeField(django_filters.fields.RangeField):
    """Amounts that fit the total column (numeric(20, 2)): a larger one is a clear error, not a database error."""

    def __init__(self, *args, **kwargs):
        bound = {"max_digits": 20, "decimal_places": 2, "required": False}
        super().__init__((forms.DecimalField(**bound), forms.DecimalField(**bound)), *args, **kwargs)


class _MoneyRangeFilter(django_filters.RangeFilter):
    field_class = _MoneyRangeField


class _IdFilter(django_filters.Filter):
    field_class = forms.IntegerField


def _date_range(label):
    return django_filters.DateFromToRangeFilter(
        label=label, widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    )


class InvoiceFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=STATUS_CHOICES, method="filter_status", distinct=False
    )
    currency = django_filters.MultipleChoiceFilter(
        label=_("Currency"), field_name="currency", choices=[(c, c) for c in settings.CURRENCIES], distinct=False
    )
    company = django_filters.CharFilter(label=_("Company"), field_name="company__name", lookup_expr="icontains")
    contact = django_filters.CharFilter(label=_("Contact"), method="filter_contact")
    number = django_filters.CharFilter(label=_("Number"), field_name="number", lookup_expr="icontains")
    issue_date = _date_range(_("Invoice date"))
    due_date = _date_range(_("Due date"))
    total = _MoneyRangeFilter(label=_("Total"), field_name="total")
    days_overdue = _DaysRangeFilter(label=_("Days overdue"), method="filter_days_overdue")
    # The "View all" links of the invoices panel on CRM records.
    company_id = _IdFilter(
        label=_("Company"), field_name="company_id", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    contact_id = _IdFilter(
        label=_("Contact"), method="filter_contact_id", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    deal_id = _IdFilter(label=_("Deal"), field_name="deal_id", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)

    class Meta:
        model = Invoice
        fields = []

    def __init__(self, *args, today: date, **kwargs):
        self.today = today
        super().__init__(*args, **kwargs)

    def filter_status(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(display_status_filter(value, today=self.today))

    def filter_contact(self, queryset, name, value):
        text = clean_search(value)
        if not text:
            return queryset
        named = Q(first_name__icontains=text) | Q(last_name__icontains=text) | Q(email__icontains=text)
        # EXISTS rather than a join: an invoice with two matching contacts is still one row.
        return queryset.filter(Exists(Contact.objects.filter(named, invoices=OuterRef("pk"))))

    def filter_contact_id(self, queryset, name, value):
        if value is None:
            return queryset
        through = Invoice.contacts.through
        return queryset.filter(Exists(through.objects.filter(invoice_id=OuterRef("pk"), contact_id=value)))

    def filter_days_overdue(self, queryset, name, value):
        if not value or (value.start is None and value.stop is None):
            return queryset
        return queryset.filter(due_date_window(self.today, value.start, value.stop))


@dataclass
class InvoiceIndex:
    filterset: InvoiceFilter
    queryset: QuerySet  # the rows of the view: filters, search, view and bucket applied, ready for keyset_page
    unbucketed: QuerySet  # the same without the aging bucket (the aging tiles count every bucket)
    ordering: list[str]
    sort: str
    view: str  # the tab: a default view's key or a saved view's id
    base: str  # the default view whose rows and sort apply
    params: QueryDict  # the view's parameters, a saved view's included
    bucket: str
    search: str
    active_filters: int
    today: date
    notice: str = ""
    scope: list[tuple[str, str]] = field(default_factory=list)  # (kind label, record name) of id filters

    @property
    def save_query(self) -> str:
        """The query string that saves this screen as a view (what the save form posts)."""
        params = self.params.copy()
        for key in ("after", "view", "base"):
            params.pop(key, None)
        if self.base != "all":
            params["base"] = self.base
        return params.urlencode()


def _normalise_view(params: QueryDict, user) -> tuple[QueryDict, str, str, str]:
    """Apply a default or saved view: a saved view's query string is the base, explicit parameters win. Returns
    the parameters, the tab (a default view's key or a saved view's id), the default view whose rows and sort
    apply (a saved view keeps the one it was saved from in its "base" parameter) and a notice for the reader."""
    view = params.get("view", "all") or "all"
    notice = ""
    merged = QueryDict(mutable=True)
    if is_id(view):
        saved = invoice_saved_views(user).filter(pk=view).first()
        if saved is None:
            view, notice = "all", _("That saved view does not exist (any more); showing all invoices.")
        else:
            merged.update(QueryDict(saved.query))
    elif view not in VIEW_KEYS:
        view, notice = "all", _("There is no such view; showing all invoices.")
    for key in params:
        if key in ("view", "after"):
            continue
        merged.setlist(key, params.getlist(key))
    if view in VIEW_KEYS:
        base = view
    else:
        base = merged.get("base", "all")
        base = base if base in VIEW_KEYS else "all"
    return merged, view, base, notice


def _scope(filterset: InvoiceFilter) -> list[tuple[str, str]]:
    """Name the records the id filters point at, so the page says whose invoices it shows."""
    if not filterset.is_bound or not filterset.is_valid():
        return []
    data = filterset.form.cleaned_data
    found = []
    if data.get("company_id"):
        name = Company.objects.filter(pk=data["company_id"]).values_list("name", flat=True).first()
        found.append((_("Company"), name or _("(deleted)")))
    if data.get("contact_id"):
        contact = Contact.objects.filter(pk=data["contact_id"]).first()
        found.append((_("Contact"), contact.full_name if contact else _("(deleted)")))
    if data.get("deal_id"):
        name = Deal.objects.filter(pk=data["deal_id"]).values_list("name", flat=True).first()
        found.append((_("Deal"), name or _("(deleted)")))
    return found


def _is_set(params: QueryDict, name: str) -> bool:
    keys = (name, f"{name}_after", f"{name}_before", f"{name}_min", f"{name}_max")
    return any(params.get(key) for key in keys)


def invoice_index_query(*, params: QueryDict, user, today: date | None = None) -> InvoiceIndex:
    today = today or timezone.localdate()  # the tenant's today: the middleware activates its timezone
    params, view, base, notice = _normalise_view(params, user)
    qs = invoice_rows(today=today).filter(_view_condition(base, today))
    search = clean_search(params.get("q", ""))
    if search:
        qs = qs.filter(Q(number__icontains=search) | Q(company__name__icontains=search))
    filterset = InvoiceFilter(params, queryset=qs, today=today)
    # A filter that cannot be applied (a bad date, a forged id) shows nothing rather than everything: an export
    # must never widen silently. The form says why.
    qs = filterset.qs if filterset.is_valid() else qs.none()
    bucket = params.get("bucket", "") if base == "aging" else ""
    unbucketed = qs
    for key, low, high in AGING_BUCKETS:
        if bucket == key:
            qs = qs.filter(due_date_window(today, low, high))
            break
    else:
        bucket = ""
    finalized_only = base in FINALIZED_VIEWS
    default_sort = DEFAULT_SORT[base]
    sort = params.get("sort", "") or default_sort
    if sort.lstrip("-") not in SORTS:
        sort = default_sort
    qs = qs.alias(_sort=sort_expression(sort.lstrip("-"), finalized_only=finalized_only)).annotate(
        _sort_value=F("_sort")
    )
    ordering = ["-_sort_value", "-id"] if sort.startswith("-") else ["_sort_value", "id"]
    active = sum(1 for name in filterset.filters if name not in RECORD_FILTERS.values() and _is_set(params, name))
    return InvoiceIndex(
        filterset=filterset,
        queryset=qs,
        unbucketed=unbucketed,
        ordering=ordering,
        sort=sort,
        view=view,
        base=base,
        params=params,
        bucket=bucket,
        search=search,
        active_filters=active,
        today=today,
        notice=notice,
        scope=_scope(filterset),
    )


def invoice_rows_decorate(rows: list[Invoice], *, today: date) -> list[Invoice]:
    """What a row prints besides the ledger figures already loaded (no query per row): the status label, days
    overdue and the buyer's name."""
    for row in rows:
        row.status_label = STATUS_LABELS.get(row.display_status, row.display_status)
        row.days_overdue = (today - row.due_date).days if row.display_status == "overdue" else 0
        row.buyer_name = row.company.name if row.company_id else row.buyer_contact or ""
    return rows


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    count: int
    total: Decimal
    balance_due: Decimal


def _without_jit(queryset: QuerySet) -> list[dict]:
    """Evaluate an aggregate over many invoices with Postgres' JIT compiler off, for this transaction only. The
    planner prices each row's balance subqueries high, so a view of 100,000 open invoices crosses the inlining and
    optimisation thresholds and spends about two seconds compiling a query that runs in half a second."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        return list(queryset)


def invoice_index_totals(queryset: QuerySet) -> list[CurrencyTotal]:
    """Totals and balance due of every row of the view (not only the page), one line per currency, in one
    GROUP BY query."""
    rows = _without_jit(
        queryset.order_by()
        .values("currency")
        .annotate(
            n=Count("id"),
            sum_total=Coalesce(Sum("total"), Value(Decimal(0)), output_field=_MONEY),
            sum_due=Coalesce(Sum("balance_due"), Value(Decimal(0)), output_field=_MONEY),
        )
        .order_by("currency")
    )
    return [CurrencyTotal(r["currency"], r["n"], r["sum_total"], r["sum_due"]) for r in rows]


@dataclass
class AgingBucket:
    key: str
    label: str
    lines: list[CurrencyTotal]


def invoice_aging(queryset: QuerySet, *, today: date) -> list[AgingBucket]:
    """Count and balance due per bucket of days overdue and per currency, in one GROUP BY query."""
    whens = [
        When(due_date__gte=today - timedelta(days=high), then=Value(key))
        for key, _low, high in AGING_BUCKETS
        if high is not None
    ]
    rows = _without_jit(
        queryset.filter(status=OPEN, due_date__lt=today)
        .order_by()
        .annotate(bucket=Case(*whens, default=Value(AGING_BUCKETS[-1][0]), output_field=CharField()))
        .values("bucket", "currency")
        .annotate(n=Count("id"), sum_due=Coalesce(Sum("balance_due"), Value(Decimal(0)), output_field=_MONEY))
        .order_by("bucket", "currency")
    )
    lines: dict[str, list[CurrencyTotal]] = {key: [] for key, _low, _high in AGING_BUCKETS}
    for r in rows:
        lines[r["bucket"]].append(CurrencyTotal(r["currency"], r["n"], Decimal(0), r["sum_due"]))
    return [AgingBucket(key, AGING_LABELS[key], lines[key]) for key, _low, _high in AGING_BUCKETS]


def invoice_export_rows(queryset: QuerySet) -> QuerySet:
    """The view's rows with the few snapshot values an accountant's import needs, read as text by Postgres so
    the whole snapshot (lines, seller, bank) never travels."""
    buyer = KeyTransform("buyer", "snapshot")
    return queryset.annotate(
        snap_total=KeyTextTransform("total", "snapshot"),
        snap_vat=KeyTextTransform("vat_total", "snapshot"),
        snap_buyer_name=KeyTextTransform("name", buyer),
        snap_buyer_vat=KeyTextTransform("vat_number", buyer),
        snap_buyer_country=KeyTextTransform("country", buyer),
    )


# --- the invoices panel of CRM records -------------------------------------------------------------------------------

PANEL_SIZE = 10


def invoice_panel_rows(*, object_type: str, record, today: date | None = None) -> tuple[list[Invoice], bool]:
    """A record's newest invoices (at most PANEL_SIZE) and whether there are more."""
    today = today or timezone.localdate()
    qs = invoice_rows(today=today)
    if object_type == "company":
        qs = qs.filter(company=record)
    elif object_type == "contact":
        through = Invoice.contacts.through
        qs = qs.filter(Exists(through.objects.filter(invoice_id=OuterRef("pk"), contact_id=record.pk)))
    elif object_type == "deal":
        qs = qs.filter(deal=record)
    else:
        raise ValueError(object_type)
    rows = list(qs.order_by("-created_at", "-id")[: PANEL_SIZE + 1])
    return invoice_rows_decorate(rows[:PANEL_SIZE], today=today), len(rows) > PANEL_SIZE
