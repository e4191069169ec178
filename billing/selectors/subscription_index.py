"""The subscriptions index: default views (active, past due, canceling, trialing ...), filters (status, company,
frequency, next billing date, MRR), search, sort, saved views and keyset pagination.

As in the quotes and invoices indexes, a view's whole state lives in its query string; a saved view is a saved
query string. MRR is the column the pricing engine keeps on each subscription (Subscription.mrr), so filtering and
sorting by it reads an indexed row, never the lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.models import Subscription, SubscriptionStatus
from billing.models.choices import Frequency
from billing.selectors.quote_index import _AmountRangeFilter, _IdFilter
from billing.selectors.subscriptions import STATUS_BADGES
from commerce_hub.saved_views import SavedViewIndex
from commerce_hub.saved_views.models import SavedView
from commerce_hub.saved_views.selectors import saved_views_for
from commerce_hub.text import MAX_ID, clean_search, is_id
from crm.models import Company, Contact, Deal

_L = gettext_lazy

SUBSCRIPTION_VIEWS = SavedViewIndex(
    name="billing.subscription", share_perm="accounts.manage_subscriptions", audit_prefix="subscription"
)
LIVE = (SubscriptionStatus.SCHEDULED, SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE, SubscriptionStatus.PAUSED)

DEFAULT_VIEWS = [
    ("all", _L("All")),
    ("active", _L("Active")),
    ("past_due", _L("Past due")),
    ("canceling", _L("Canceling")),
    ("trialing", _L("Trialing")),
    ("paused", _L("Paused")),
    ("scheduled", _L("Scheduled")),
    ("ended", _L("Ended or canceled")),
]
VIEW_KEYS = {key for key, _label in DEFAULT_VIEWS}
SORTS = {
    "name": _L("Name"),
    "next_billing_date": _L("Next billing date"),
    "mrr": _L("MRR"),
    "created": _L("Created"),
}
DEFAULT_SORT = {key: "-created" for key in VIEW_KEYS} | {"active": "next_billing_date", "past_due": "next_billing_date"}
RECORD_FILTERS = {"company": "company_id", "contact": "contact_id", "deal": "deal_id"}


def _view_condition(view: str, today: date) -> Q:
    if view == "active":
        return Q(status=SubscriptionStatus.ACTIVE)
    if view == "past_due":
        return Q(status=SubscriptionStatus.PAST_DUE)
    if view == "canceling":
        return Q(cancel_at_period_end=True, status__in=LIVE)
    if view == "trialing":
        return Q(trial_end__gt=today, status__in=(SubscriptionStatus.ACTIVE, SubscriptionStatus.SCHEDULED))
    if view == "paused":
        return Q(status=SubscriptionStatus.PAUSED)
    if view == "scheduled":
        return Q(status=SubscriptionStatus.SCHEDULED)
    if view == "ended":
        return Q(status__in=(SubscriptionStatus.CANCELED, SubscriptionStatus.ENDED))
    return Q()


def sort_expression(key: str):
    """NOT NULL columns only, so keyset pagination can compare them."""
    return {
        "name": F("name"),
        "next_billing_date": F("next_billing_date"),
        "mrr": F("mrr"),
        "created": F("created_at"),
    }[key]


def subscription_rows() -> QuerySet[Subscription]:
    """Subscriptions with what an index row shows, in one query: company and contact joined."""
    return Subscription.objects.select_related("company", "contact")


class SubscriptionFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        label=_L("Status"), field_name="status", choices=SubscriptionStatus.choices, distinct=False
    )
    frequency = django_filters.MultipleChoiceFilter(
        label=_L("Billing frequency"),
        field_name="frequency",
        choices=[c for c in Frequency.choices if c[0] != Frequency.ONE_TIME],
        distinct=False,
    )
    company = django_filters.CharFilter(label=_L("Company"), field_name="company__name", lookup_expr="icontains")
    next_billing_date = django_filters.DateFromToRangeFilter(
        label=_L("Next billing date between"), widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    )
    mrr = _AmountRangeFilter(label=_L("MRR"), field_name="mrr")
    company_id = _IdFilter(
        label=_L("Company"), field_name="company_id", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    contact_id = _IdFilter(
        label=_L("Contact"), field_name="contact_id", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )
    deal_id = _IdFilter(label=_L("Deal"), field_name="deal_id", min_value=1, max_value=MAX_ID, widget=forms.HiddenInput)

    class Meta:
        model = Subscription
        fields = []


def subscription_saved_views(user) -> QuerySet[SavedView]:
    return saved_views_for(index=SUBSCRIPTION_VIEWS, user=user)


@dataclass
class SubscriptionIndex:
    filterset: SubscriptionFilter
    queryset: QuerySet
    ordering: list[str]
    sort: str
    view: str
    base: str
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
    view = params.get("view", "all") or "all"
    notice = ""
    merged = QueryDict(mutable=True)
    if is_id(view):
        saved = subscription_saved_views(user).filter(pk=view).first()
        if saved is None:
            view, notice = "all", _("That saved view does not exist (any more); showing all subscriptions.")
        else:
            merged.update(QueryDict(saved.query))
    elif view not in VIEW_KEYS:
        view, notice = "all", _("There is no such view; showing all subscriptions.")
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


def _scope(filterset: SubscriptionFilter) -> list[tuple[str, str]]:
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


def subscription_index_query(*, params: QueryDict, user, today: date | None = None) -> SubscriptionIndex:
    today = today or timezone.localdate()
    params, view, base, notice = _normalise_view(params, user)
    qs = subscription_rows().filter(_view_condition(base, today))
    search = clean_search(params.get("q", ""))
    if search:
        qs = qs.filter(
            Q(name__icontains=search)
            | Q(company__name__icontains=search)
            | Q(contact__email__icontains=search)
            | Q(contact__last_name__icontains=search)
        )
    filterset = SubscriptionFilter(params, queryset=qs)
    # A filter that cannot be applied (a bad date, an absurd amount, a forged id) shows nothing, and says why.
    qs = filterset.qs if filterset.is_valid() else qs.none()
    sort = params.get("sort", "") or DEFAULT_SORT[base]
    if sort.lstrip("-") not in SORTS:
        sort = DEFAULT_SORT[base]
    qs = qs.alias(_sort=sort_expression(sort.lstrip("-"))).annotate(_sort_value=F("_sort"))
    ordering = ["-_sort_value", "-id"] if sort.startswith("-") else ["_sort_value", "id"]
    active = sum(1 for name in filterset.filters if name not in RECORD_FILTERS.values() and _is_set(params, name))
    return SubscriptionIndex(
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


def subscription_rows_decorate(rows: list[Subscription], *, today: date) -> list[Subscription]:
    """What a row prints besides its columns, without a query per row."""
    for row in rows:
        row.status_label = str(SubscriptionStatus(row.status).label)
        row.badge = STATUS_BADGES.get(row.status, "badge-muted")
        row.frequency_label = str(Frequency(row.frequency).label)
        row.customer_name = row.company.name if row.company_id else (row.contact.full_name if row.contact_id else "")
        row.trialing = bool(row.trial_end and row.trial_end > today and row.status in LIVE)
    return rows
