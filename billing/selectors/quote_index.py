"""The quotes index for sales reps: default views, filters (state, owner, expiry, amount, company), search, sort,
saved views (commerce_hub.saved_views) and keyset pagination, and the quotes panel of CRM records.

As in the invoices index (billing/selectors/invoice_index.py) a view's whole state lives in its query string: a saved
view is a saved query string. A quote whose expiration date has passed counts as expired for the filters even
before the expiry job has marked it, so the index never shows a stale quote as current.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import django_filters
from django import forms
from django.db.models import DecimalField, Exists, F, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import Quote, QuoteStatus
from billing.models.quotes import EXPIRABLE_STATUSES
from billing.selectors.quotes import STATUS_BADGES, status_label
from commerce_hub.accounts.models import User
from commerce_hub.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS, money_in_bounds, money_too_large_message
from commerce_hub.numbers import parse_decimal_localized
from commerce_hub.saved_views import SavedViewIndex
from commerce_hub.saved_views.models import SavedView
from commerce_hub.saved_views.selectors import saved_views_for
from commerce_hub.text import MAX_ID, clean_search, is_id
from crm.models import Company, Contact, Deal

_L = gettext_lazy

QUOTE_VIEWS = SavedViewIndex(name="billing.quote", share_perm="accounts.edit_quotes", audit_prefix="quote")

# States the expiry job moves to expired once the date has passed: one definition, the model's.
EXPIRABLE = EXPIRABLE_STATUSES
WITH_BUYER = (QuoteStatus.PUBLISHED, QuoteStatus.VIEWED)
WON = (QuoteStatus.SIGNED, QuoteStatus.ACCEPTED, QuoteStatus.PAID)
SOON_DAYS = 7

DEFAULT_VIEWS = [
    ("all", _L("All")),
    ("drafts", _L("Drafts")),
    ("published", _L("With the buyer")),
    ("expiring", _L("Expiring soon")),
    ("won", _L("Won")),
    ("lost", _L("Lost")),
]
VIEW_KEYS = {key for key, _label in DEFAULT_VIEWS}
DEFAULT_SORT = {
    "all": "-created",
    "drafts": "-created",
    "published": "expires_on",
    "expiring": "expires_on",
    "won": "-created",
    "lost": "-created",
}
SORTS = {
    "number": _L("Number"),
    "expires_on": _L("Expires"),
    "total": _L("Total"),
    "created": _L("Created"),
}
EXPIRY_CHOICES = [
    ("expired", _L("Expired")),
    ("soon", _L("Expiring in the next 7 days")),
]
RECORD_FILTERS = {"company": "company_id", "contact": "contact_id", "deal": "deal_id"}
_MONEY_OUTPUT = {"max_digits": MONEY_MAX_DIGITS, "decimal_places": MONEY_DECIMAL_PLACES}


def expired_condition(today: date) -> Q:
    return Q(status=QuoteStatus.EXPIRED) | Q(status__in=EXPIRABLE, expires_on__lt=today)


def expiring_condition(today: date) -> Q:
    return Q(status__in=EXPIRABLE, expires_on__gte=today, expires_on__lte=today + timedelta(days=SOON_DAYS))


def _view_condition(view: str, today: date) -> Q:
    if view == "drafts":
        return Q(status__in=(QuoteStatus.DRAFT, QuoteStatus.PENDING_APPROVAL, QuoteStatus.APPROVED))
    if view == "published":
        return Q(status__in=WITH_BUYER)
    if view == "expiring":
        return expiring_condition(today)
    if view == "won":
        return Q(status__in=WON)
    if view == "lost":
        return Q(status=QuoteStatus.DECLINED) | expired_condition(today)
    return Q()


def sort_expression(key: str):
    """A NOT NULL expression per sort key, so keyset pagination can compare it: unnumbered drafts sort as 0,
    quotes not yet priced as -1."""
    if key == "created":
        return F("created_at")
    if key == "expires_on":
        return F("expires_on")
    if key == "number":
        return Coalesce(F("sequence"), Value(0))
    return Coalesce(F("total"), Value(Decimal("-1")), output_field=DecimalField(**_MONEY_OUTPUT))


def quote_rows() -> QuerySet[Quote]:
    """Quotes with what an index row shows, in one query: company, owner and deal joined."""
    return Quote.objects.select_related("company", "owner", "deal")


# --- filters ----------------------------------------------------------------------------------------------------------


class _AmountField(forms.CharField):
    """An amount as the reader types it (1.234,50 in Dutch), below the one bound of every amount."""

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        if len(text) > 40:
            raise forms.ValidationError(_("That number is too long."))
        amount = parse_decimal_localized(text)
        if not money_in_bounds(amount):
            raise forms.ValidationError(money_too_large_message())
        return amount


class _AmountRangeField(django_filters.fields.RangeField):
    """Amounts in the reader's notation, each below the one bound of every amount: anything else is an error next
    to the field (and the view shows nothing), never a database error."""

    def __init__(self, *args, **kwargs):
        super().__init__((_AmountField(required=False), _AmountField(required=False)), *args, **kwargs)

    def clean(self, value):
        cleaned = super().clean(value)
        if cleaned and cleaned.start is not None and cleaned.stop is not None and cleaned.start > cleaned.stop:
            raise forms.ValidationError(_("The minimum is above the maximum."))
        return cleaned


class _AmountRangeFilter(django_filters.RangeFilter):
    field_class = _AmountRangeField


class _IdFilter(django_filters.Filter):
    field_class = forms.IntegerField


def _owner_choices(request=None):
    return User.objects.order_by("full_name", "id")


class QuoteFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        label=_L("State"), field_name="status", choices=QuoteStatus.choices, distinct=False
    )
    owner = django_filters.ModelChoiceFilter(
        label=_L("Owner"), field_name="owner", queryset=_owner_choices, empty_label=_L("Anyone")
    )
    expiry = django_filters.ChoiceFilter(
        label=_L("Expiry"), choices=EXPIRY_CHOICES, method="filter_expiry", empty_label=_L("Any time")
    )
    expires_on = django_filters.DateFromToRangeFilter(
        label=_L("Expires between"), widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    )
    total = _AmountRangeFilter(label=_L("Total"), field_name="total")
    company = django_filters.CharFilter(label=_L("Company"), field_name="company__name", lookup_expr="icontains")
    # The "View all" links of the quotes panel on CRM records.
    company_id = _IdFilter(
        label=_L("Company"), field_name="company_id", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    contact_id = _IdFilter(
        label=_L("Contact"), method="filter_contact_id", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    deal_id = _IdFilter(label=_L("Deal"), field_name="deal_id", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)

    class Meta:
        model = Quote
        fields = []

    def __init__(self, *args, today: date, **kwargs):
        self.today = today
        super().__init__(*args, **kwargs)

    def filter_expiry(self, queryset, name, value):
        if value == "expired":
            return queryset.filter(expired_condition(self.today))
        if value == "soon":
            return queryset.filter(expiring_condition(self.today))
        return queryset

    def filter_contact_id(self, queryset, name, value):
        if value is None:
            return queryset
        through = Quote.contacts.through
        return queryset.filter(Exists(through.objects.filter(quote_id=OuterRef("pk"), contact_id=value)))


# --- the index --------------------------------------------------------------------------------------------------------


def quote_saved_views(user) -> QuerySet[SavedView]:
    return saved_views_for(index=QUOTE_VIEWS, user=user)


@dataclass
class QuoteIndex:
    filterset: QuoteFilter
    queryset: QuerySet  # the rows of the view, ready for keyset_page
    ordering: list[str]
    sort: str
    view: str  # the tab: a default view's key or a saved view's id
    base: str  # the default view whose rows and sort apply
    params: QueryDict
    search: str
    active_filters: int
    today: date
    notice: str = ""
    scope: list[tuple[str, str]] = field(default_factory=list)

    @property
    def save_query(self) -> str:
        params = self.params.copy()
        for key in ("after", "view", "base"):
            params.pop(key, None)
        if self.base != "all":
            params["base"] = self.base
        return params.urlencode()


def _normalise_view(params: QueryDict, user) -> tuple[QueryDict, str, str, str]:
    """A saved view's query string is the base and explicit parameters win (as in the invoices index)."""
    view = params.get("view", "all") or "all"
    notice = ""
    merged = QueryDict(mutable=True)
    if is_id(view):
        saved = quote_saved_views(user).filter(pk=view).first()
        if saved is None:
            view, notice = "all", _("That saved view does not exist (any more); showing all quotes.")
        else:
            merged.update(QueryDict(saved.query))
    elif view not in VIEW_KEYS:
        view, notice = "all", _("There is no such view; showing all quotes.")
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


def _scope(filterset: QuoteFilter) -> list[tuple[str, str]]:
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


def quote_index_query(*, params: QueryDict, user, today: date | None = None) -> QuoteIndex:
    today = today or timezone.localdate()
    params, view, base, notice = _normalise_view(params, user)
    qs = quote_rows().filter(_view_condition(base, today))
    search = clean_search(params.get("q", ""))
    if search:
        qs = qs.filter(Q(number__icontains=search) | Q(title__icontains=search) | Q(company__name__icontains=search))
    filterset = QuoteFilter(params, queryset=qs, today=today)
    # A filter that cannot be applied (a bad date, an absurd amount, a forged id) shows nothing rather than
    # everything; the form says why.
    qs = filterset.qs if filterset.is_valid() else qs.none()
    sort = params.get("sort", "") or DEFAULT_SORT[base]
    if sort.lstrip("-") not in SORTS:
        sort = DEFAULT_SORT[base]
    qs = qs.alias(_sort=sort_expression(sort.lstrip("-"))).annotate(_sort_value=F("_sort"))
    ordering = ["-_sort_value", "-id"] if sort.startswith("-") else ["_sort_value", "id"]
    active = sum(1 for name in filterset.filters if name not in RECORD_FILTERS.values() and _is_set(params, name))
    return QuoteIndex(
        filterset=filterset,
        queryset=qs,
        ordering=ordering,
        sort=sort,
        view=view,
        base=base,
        params=params,
        search=search,
        active_filters=active,
        today=today,
        notice=notice,
        scope=_scope(filterset),
    )


def quote_rows_decorate(rows: list[Quote], *, today: date) -> list[Quote]:
    """What a row prints besides its columns (no query per row): the status words and badge, and whether its
    date has passed while the expiry job has not marked it yet."""
    for row in rows:
        overdue = row.status in EXPIRABLE and row.expires_on < today
        row.display_status = QuoteStatus.EXPIRED if overdue else row.status
        row.status_label = status_label(row.display_status)
        row.badge = STATUS_BADGES.get(row.display_status, "")
        row.buyer_name = row.company.name if row.company_id else ""
        row.expires_soon = row.status in EXPIRABLE and today <= row.expires_on <= today + timedelta(days=SOON_DAYS)
    return rows


# --- the quotes panel of CRM records ---------------------------------------------------------------------------------

PANEL_SIZE = 10


def quote_panel_rows(*, object_type: str, record, today: date | None = None) -> tuple[list[Quote], bool]:
    """A record's newest quotes (at most PANEL_SIZE) and whether there are more."""
    today = today or timezone.localdate()
    qs = quote_rows()
    if object_type == "company":
        qs = qs.filter(company=record)
    elif object_type == "contact":
        through = Quote.contacts.through
        qs = qs.filter(Exists(through.objects.filter(quote_id=OuterRef("pk"), contact_id=record.pk)))
    elif object_type == "deal":
        qs = qs.filter(deal=record)
    else:
        raise ValueError(object_type)
    rows = list(qs.order_by("-created_at", "-id")[: PANEL_SIZE + 1])
    return quote_rows_decorate(rows[:PANEL_SIZE], today=today), len(rows) > PANEL_SIZE
