"""The quote builder's registrations: quotes as a line item owner kind (the shared editor edits their lines), the
Quotes menu entry, the Quotes panel of deals, companies and contacts, the deal timeline's quote events, and the
guard that keeps a deal its quotes belong to."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _L
from django.utils.translation import ngettext

OBJECT_TYPES = ("company", "contact", "deal")
SHOWN = 5  # quote names in a deletion message; the rest are counted


def quotes_panel_context(request, record, object_type: str) -> dict:
    from billing.selectors.quote_index import RECORD_FILTERS, quote_panel_rows

    rows, has_more = quote_panel_rows(object_type=object_type, record=record)
    can_create = object_type == "deal" and request.user.has_perm("accounts.edit_quotes")
    return {
        "rows": rows,
        "has_more": has_more,
        "view_all_url": f"{reverse('billing:quote_list')}?{RECORD_FILTERS[object_type]}={record.pk}",
        "can_create": can_create,
        "create_url": reverse("billing:quote_create_from_deal", args=[record.pk]) if can_create else "",
    }


def deal_quote_items(record, *, before, limit):
    """The deal timeline's entries for its quotes: each quote's creation and state changes (crm.timeline)."""
    from billing.selectors.quotes import deal_quote_events
    from crm.timeline import TimelineItem

    return [
        TimelineItem(when=e.at, template="billing/quotes/timeline_event.html", obj=e, kind="quote_event", key=e.pk)
        for e in deal_quote_events(record, before=before, limit=limit)
    ]


def deal_quotes_guard(object_type: str, ids) -> list[str]:
    """A deal with quotes is kept: a quote cannot live without its deal (and a published one is what a buyer
    saw). Its draft quotes can be deleted first."""
    from billing.models import Quote

    if object_type != "deal":
        return []
    quotes = list(Quote.objects.filter(deal_id__in=ids).order_by("created_at", "id")[: SHOWN + 1])
    if not quotes:
        return []
    total = Quote.objects.filter(deal_id__in=ids).count() if len(quotes) > SHOWN else len(quotes)
    named = ", ".join(q.number or q.title for q in quotes[:SHOWN])
    if total > SHOWN:
        rest = total - SHOWN
        named = ngettext("%(named)s and %(n)d more", "%(named)s and %(n)d more", rest) % {"named": named, "n": rest}
    if len(ids) > 1:
        message = ngettext(
            "These deals cannot be deleted: quote %(names)s belongs to one of them.",
            "These deals cannot be deleted: quotes %(names)s belong to them.",
            total,
        )
    else:
        message = ngettext(
            "This deal cannot be deleted: quote %(names)s belongs to it.",
            "This deal cannot be deleted: quotes %(names)s belong to it.",
            total,
        )
    return [message % {"names": named}]


def register() -> None:
    """Called once from BillingConfig.ready()."""
    from billing import line_item_owners
    from billing.editor import register_owner_kind
    from commerce_hub import registry
    from crm.deletion import register_deletion_guard
    from crm.panels import register_panel
    from crm.timeline import timeline_provider

    register_owner_kind(line_item_owners.QUOTE)
    registry.register_nav_entry(
        key="quotes",
        label=_L("Quotes"),
        section="commerce",
        order=20,
        url_name="billing:quote_list",
        permission="accounts.view_quotes",
    )
    for object_type in OBJECT_TYPES:
        register_panel(
            name="quotes",
            object_type=object_type,
            order=25,
            permission="accounts.view_quotes",
            template="billing/quotes/panel.html",
            context=lambda request, record, object_type=object_type: quotes_panel_context(request, record, object_type),
        )
    timeline_provider("deal")(deal_quote_items)
    register_deletion_guard("billing.deal-quotes", deal_quotes_guard)
