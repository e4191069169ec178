"""Index views of companies, contacts and deals: filters, search, sort, columns and default or saved views.

All of a view's state lives in its query string, so a saved view is just a saved query string, a CSV export sees
exactly the rows on screen, and a dynamic list re-runs the same query whenever it is viewed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import django_filters
from django.conf import settings
from django.db.models import DateField, DecimalField, F, Q, QuerySet, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast, Coalesce
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from commerce_hub.organization.models import COUNTRY_CHOICES
from commerce_hub.saved_views import SavedViewIndex
from commerce_hub.saved_views.selectors import saved_views_for
from commerce_hub.text import clean_search, is_id
from crm.fields import FieldSpec, specs_for
from crm.models import Company, Contact, Deal, LifecycleStage, ObjectType, Stage

MODELS = {"company": Company, "contact": Contact, "deal": Deal}
SEARCH_FIELDS = {
    "company": ["name", "domain", "city"],
    "contact": ["first_name", "last_name", "email"],
    "deal": ["name", "company__name"],
}
RELATED = {"company": ["owner"], "contact": ["owner", "company"], "deal": ["owner", "company", "stage"]}
DEFAULT_SORT = {"company": "name", "contact": "-updated_at", "deal": "-updated_at"}
DEFAULT_VIEWS = [
    ("all", _("All")),
    ("mine", _("Mine")),
    ("unassigned", _("Unassigned")),
    ("recent", _("Recently created")),
]
RECENT_DAYS = 30
NOT_FILTERABLE = {"created_at", "updated_at"}  # filtered through the date range filters below instead


def param_name(spec: FieldSpec) -> str:
    return f"p_{spec.property_key}" if spec.is_custom else spec.key


def _custom_text(key):
    return KeyTextTransform(key, "properties")


def sort_expression(spec: FieldSpec):
    """A NOT NULL expression per field, so keyset pagination can compare it (NULLs sort as the lowest value)."""
    t = spec.type
    if spec.is_custom:
        text = _custom_text(spec.property_key)
        if t == "p_number":
            return Coalesce(Cast(text, DecimalField(max_digits=30, decimal_places=6)), Value(Decimal("-1e18")))
        if t == "p_money":
            amount = KeyTextTransform("amount", KeyTransform(spec.property_key, "properties"))
            return Coalesce(Cast(amount, DecimalField(max_digits=30, decimal_places=6)), Value(Decimal("-1e18")))
        return Coalesce(text, Value(""))
    if t == "owner":
        return Coalesce(F("owner__full_name"), Value(""))
    if t == "company":
        return Coalesce(F("company__name"), Value(""))
    if t == "stage":
        return F("stage__position")
    if t == "money":
        return Coalesce(F("amount"), Value(Decimal("-1")), output_field=DecimalField())
    if t == "date":
        return Coalesce(F(spec.attr), Value(date(1, 1, 1)), output_field=DateField())
    return F(spec.attr)


class _IndexFilterSet(django_filters.FilterSet):
    def filter_owner(self, queryset, name, value):
        if not value:
            return queryset
        ids = [v for v in value if v != "none"]
        condition = Q(owner_id__in=ids) if ids else Q(pk__in=[])
        if "none" in value:
            condition |= Q(owner__isnull=True)
        return queryset.filter(condition)


def _user_choices():
    from commerce_hub.accounts.models import User

    return [("none", _("Unassigned"))] + [
        (str(pk), name) for pk, name in User.objects.filter(is_active=True).values_list("pk", "full_name")
    ]


def _custom_filter(spec: FieldSpec):
    key = spec.property_key
    t = spec.type
    if t == "p_text":
        return django_filters.CharFilter(
            label=spec.label, method=lambda qs, _n, v: qs.filter(**{f"properties__{key}__icontains": v}) if v else qs
        )
    if t == "p_choice":
        return django_filters.MultipleChoiceFilter(
            distinct=False,
            label=spec.label,
            choices=list(spec.choices),
            method=lambda qs, _n, v: qs.filter(**{f"properties__{key}__in": v}) if v else qs,
        )
    if t == "p_boolean":
        return django_filters.ChoiceFilter(
            label=spec.label,
            choices=[("yes", _("Yes")), ("no", _("No"))],
            method=lambda qs, _n, v: qs.filter(**{f"properties__{key}": v == "yes"}) if v else qs,
        )
    if t in ("p_number", "p_money"):
        expr = sort_expression(spec)

        def by_range(qs, _n, v, expr=expr):
            if v and v.start is not None:
                qs = qs.alias(**{f"_f_{key}": expr}).filter(**{f"_f_{key}__gte": v.start})
            if v and v.stop is not None:
                qs = qs.alias(**{f"_f_{key}": expr}).filter(**{f"_f_{key}__lte": v.stop})
            return qs

        return django_filters.RangeFilter(label=spec.label, method=by_range)
    if t == "p_date":
        expr = Cast(_custom_text(key), DateField())

        def by_dates(qs, _n, v, expr=expr):
            if v and v.start:
                qs = qs.alias(**{f"_f_{key}": expr}).filter(**{f"_f_{key}__gte": v.start})
            if v and v.stop:
                qs = qs.alias(**{f"_f_{key}": expr}).filter(**{f"_f_{key}__lte": v.stop})
            return qs

        return django_filters.DateFromToRangeFilter(
            label=spec.label, method=by_dates, widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
        )
    return None


def _builtin_filter(spec: FieldSpec, object_type: str):
    t = spec.type
    if t in ("text", "email", "domain", "phone", "vat", "registration"):
        return django_filters.CharFilter(field_name=spec.attr, lookup_expr="icontains", label=spec.label)
    if t == "country":
        return django_filters.MultipleChoiceFilter(
            distinct=False, field_name="country", choices=COUNTRY_CHOICES, label=spec.label
        )
    if t == "language":
        return django_filters.MultipleChoiceFilter(
            distinct=False, field_name="language", choices=settings.LANGUAGES, label=spec.label
        )
    if t == "currency":
        return django_filters.MultipleChoiceFilter(
            distinct=False, field_name=spec.attr, choices=[(c, c) for c in settings.CURRENCIES], label=spec.label
        )
    if t == "lifecycle":
        return django_filters.MultipleChoiceFilter(
            distinct=False,
            field_name="lifecycle_stage",
            label=spec.label,
            choices=lambda: list(LifecycleStage.objects.values_list("key", "label")),
        )
    if t == "owner":
        return django_filters.MultipleChoiceFilter(
            distinct=False, label=spec.label, choices=_user_choices, method="filter_owner"
        )
    if t == "company":
        return django_filters.CharFilter(field_name="company__name", lookup_expr="icontains", label=spec.label)
    if t == "stage":
        return django_filters.MultipleChoiceFilter(
            distinct=False,
            field_name="stage_id",
            label=spec.label,
            choices=lambda: [
                (str(pk), f"{pipeline} · {name}")
                for pk, name, pipeline in Stage.objects.values_list("pk", "name", "pipeline__name")
            ],
        )
    if t == "money":
        return django_filters.RangeFilter(field_name="amount", label=spec.label)
    if t in ("date", "datetime"):
        return django_filters.DateFromToRangeFilter(
            field_name=f"{spec.attr}__date" if t == "datetime" else spec.attr,
            label=spec.label,
            widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
        )
    return None


def filterset_class(object_type: str, specs: list[FieldSpec]) -> type[django_filters.FilterSet]:
    """A django-filter FilterSet with one filter per field, custom properties included."""
    declared = {}
    for spec in specs:
        flt = _custom_filter(spec) if spec.is_custom else _builtin_filter(spec, object_type)
        if flt is not None:
            declared[param_name(spec)] = flt
    meta = type("Meta", (), {"model": MODELS[object_type], "fields": []})
    return type(f"{object_type.title()}IndexFilter", (_IndexFilterSet,), {**declared, "Meta": meta})


@dataclass
class IndexQuery:
    object_type: str
    specs: list[FieldSpec]
    filterset: django_filters.FilterSet
    queryset: QuerySet
    ordering: list[str]
    sort: str  # e.g. "-updated_at"
    columns: list[FieldSpec]
    view: str
    search: str
    active_filters: int

    @property
    def spec_by_key(self) -> dict[str, FieldSpec]:
        return {s.key: s for s in self.specs}


def _normalise_view(params: QueryDict, object_type: str, user) -> tuple[QueryDict, str]:
    """Apply a default or saved view: its query string is the base, explicit parameters win."""
    view = params.get("view", "all")
    merged = QueryDict(mutable=True)
    if is_id(view):
        saved = saved_views_for(index=VIEW_INDEXES[object_type], user=user).filter(pk=view).first()
        if saved is None:
            view = "all"
        else:
            merged.update(QueryDict(saved.query))
    for key in params:
        if key in ("view", "after"):
            continue
        merged.setlist(key, params.getlist(key))
    return merged, view


def index_query(object_type: str, params: QueryDict, user) -> IndexQuery:
    specs = specs_for(object_type)
    # Custom properties answer to "p:<key>" (their spec key) and "p_<key>" (their URL parameter name).
    by_key = {s.key: s for s in specs} | {param_name(s): s for s in specs}
    params, view = _normalise_view(params, object_type, user)
    qs = MODELS[object_type].objects.select_related(*RELATED[object_type])
    if view == "mine":
        qs = qs.filter(owner=user)
    elif view == "unassigned":
        qs = qs.filter(owner__isnull=True)
    elif view == "recent":
        qs = qs.filter(created_at__gte=timezone.now() - timedelta(days=RECENT_DAYS))
    search = clean_search(params.get("q", ""))
    if search:
        condition = Q()
        for name in SEARCH_FIELDS[object_type]:
            condition |= Q(**{f"{name}__icontains": search})
        qs = qs.filter(condition)
    filterset = filterset_class(object_type, specs)(params, queryset=qs)
    # A filter that cannot be applied (a bad date, an owner who left) shows nothing rather than everything: an
    # export or a dynamic list must never widen silently. The form shows why.
    if filterset.is_bound and not filterset.is_valid():
        qs = qs.none()
    elif filterset.is_bound:
        qs = filterset.qs
    default_sort = "-created_at" if view == "recent" else DEFAULT_SORT[object_type]
    sort = params.get("sort", default_sort)
    sort_spec = by_key.get(sort.lstrip("-"))
    if sort_spec is None or not sort_spec.sortable:
        sort, sort_spec = default_sort, by_key[default_sort.lstrip("-")]
    sort = ("-" if sort.startswith("-") else "") + sort_spec.key
    qs = qs.alias(_sort=sort_expression(sort_spec)).annotate(_sort_value=F("_sort"))
    ordering = ["-_sort_value", "-id"] if sort.startswith("-") else ["_sort_value", "id"]
    requested = [by_key[k] for k in params.get("cols", "").split(",") if k in by_key]
    columns = list(dict.fromkeys(requested)) or [s for s in specs if s.default_column]
    active = sum(1 for name in filterset.filters if any(k.startswith(name) and params.get(k) for k in params))
    return IndexQuery(
        object_type=object_type,
        specs=specs,
        filterset=filterset,
        queryset=qs,
        ordering=ordering,
        sort=sort,
        columns=columns,
        view=view,
        search=search,
        active_filters=active,
    )


# The saved views of each record index (commerce_hub.saved_views), one index per kind of record.
VIEW_INDEXES = {
    object_type: SavedViewIndex(name=f"crm.{object_type}", share_perm="accounts.edit_crm", audit_prefix="crm")
    for object_type in ObjectType.values
}
