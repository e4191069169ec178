"""Subscription management's registrations: the Subscriptions menu entry, the Settings → Subscriptions tab,
subscriptions as a line item owner kind, and the Subscriptions panel of deals, companies and contacts (the panel the
quote checkout registered, now with a link to all of a record's subscriptions and a button to create one)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _L

OBJECT_TYPES = ("company", "contact", "deal")


def subscriptions_panel_context(request, record, object_type: str) -> dict:
    from billing.selectors.subscription_index import RECORD_FILTERS
    from billing.selectors.subscriptions import subscription_panel_rows

    rows, has_more = subscription_panel_rows(object_type=object_type, record=record)
    can_create = request.user.has_perm("accounts.manage_subscriptions")
    return {
        "rows": rows,
        "has_more": has_more,
        "view_all_url": f"{reverse('billing:subscription_list')}?{RECORD_FILTERS[object_type]}={record.pk}",
        "can_create": can_create,
        "create_url": reverse("billing:subscription_new", args=[object_type, record.pk]) if can_create else "",
    }


def register() -> None:
    """Called once from BillingConfig.ready(), after the quote checkout's registrations."""
    from commerce_hub import registry
    from crm.panels import register_panel

    registry.register_nav_entry(
        key="subscriptions",
        label=_L("Subscriptions"),
        section="commerce",
        order=50,
        url_name="billing:subscription_list",
        permission="accounts.view_subscriptions",
    )
    registry.register_settings_tab(
        key="subscriptions",
        label=_L("Subscriptions"),
        order=87,
        url_name="billing:subscription_settings",
        permission="accounts.manage_settings",
    )
    for object_type in OBJECT_TYPES:
        register_panel(
            name="subscriptions",
            object_type=object_type,
            order=35,
            permission="accounts.view_subscriptions",
            template="billing/subscriptions/panel.html",
            context=lambda request, record, object_type=object_type: subscriptions_panel_context(
                request, record, object_type
            ),
        )
