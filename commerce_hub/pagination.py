"""Keyset pagination: the next page starts after the last row shown, so page 500 costs what page 1 costs and no
COUNT(*) ever runs. The cursor is the last row's sort values, signed so it cannot be forged into a filter."""

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import Q, QuerySet
from django.http import QueryDict

_SALT = "commerce_hub.pagination"


@dataclass
class Page:
    rows: list
    next_cursor: str | None
    is_first: bool


def _value(row, field: str):
    value: Any = row
    for part in field.split("__"):
        value = getattr(value, part)
    return value


def _after(ordering: list[str], values: list) -> Q:
    """Rows after `values` in this ordering: a > x | (a = x & b > y) | (a = x & b = y & c > z) ...

    Sort fields must be NOT NULL (the pk last). The redundant leading `a >= x` lets Postgres start an index range
    scan at the cursor instead of reading and discarding every earlier row.
    """
    condition = Q(pk__in=[])
    for i, field in enumerate(ordering):
        equal_prefix = {prior.lstrip("-"): values[j] for j, prior in enumerate(ordering[:i])}
        op = "lt" if field.startswith("-") else "gt"
        condition |= Q(**equal_prefix, **{f"{field.lstrip('-')}__{op}": values[i]})
    first = ordering[0]
    bound = "lte" if first.startswith("-") else "gte"
    return Q(**{f"{first.lstrip('-')}__{bound}": values[0]}) & condition


def keyset_page(queryset: QuerySet, *, ordering: list[str], cursor: str | None, size: int = 50) -> Page:
    """`ordering` must end with a unique field (the pk) so that every row has exactly one place."""
    qs = queryset.order_by(*ordering)
    values = None
    if cursor:
        try:
            payload = signing.loads(cursor, salt=_SALT)
        except signing.BadSignature:
            payload = None
        # A cursor belongs to one ordering: one from another sort of the same page starts over at page one.
        if isinstance(payload, dict) and payload.get("o") == ordering and len(payload.get("v", [])) == len(ordering):
            values = payload["v"]
    if values is not None:
        qs = qs.filter(_after(ordering, values))
    rows = list(qs[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if has_more and rows:
        last = [_serial(_value(rows[-1], f.lstrip("-"))) for f in ordering]
        next_cursor = signing.dumps({"o": ordering, "v": last}, salt=_SALT)
    return Page(rows=rows, next_cursor=next_cursor, is_first=values is None)


def _serial(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return str(value) if not isinstance(value, int | float | str | type(None)) else value


def query_string_without(params: QueryDict, *names: str) -> str:
    """An index page's query string without some parameters (the cursor, the sort ...), for its links."""
    copy = params.copy()
    for name in names:
        copy.pop(name, None)
    return copy.urlencode()
