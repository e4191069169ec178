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


def _lines_changed(subscription, actor) -> None:
    """Every line must be recurring at the subscription's frequency, in its currency; then MRR follows the lines.
    Runs inside the editor's transaction, so a refused line undoes the edit."""
    from django.core.exceptions import ValidationError
    from django.utils.translation import gettext as _

    from billing.models import LineItem
    from billing.models.choices import Frequency
    from billing.services.subscription_changes import subscription_mrr_refresh

    # Keyed "products", the editor's key for what the library refuses (its other forms show it above the form).
    for line in LineItem.objects.filter(subscription=subscription).only("name", "frequency", "currency"):
        if line.frequency == Frequency.ONE_TIME:
            message = _(
                "“%(name)s” is billed one time; a subscription bills recurring items only. Put it on an invoice."
            ) % {"name": line.name}
            raise ValidationError({"products": [message]})
        if line.frequency != subscription.frequency:
            message = _("“%(name)s” is billed %(its)s; this subscription bills %(frequency)s.") % {
                "name": line.name,
                "its": str(Frequency(line.frequency).label).lower(),
                "frequency": str(Frequency(subscription.frequency).label).lower(),
            }
            raise ValidationError({"products": [message]})
        if line.currency != subscription.currency:
            raise ValidationError({"products": [_("Every item must be in the subscription's currency.")]})
    subscription_mrr_refresh(subscription)


def owner_kind():
    from billing.editor import OwnerKind
    from billing.models import Subscription
    from billing.selectors.subscription_record import subscription_lines_locked_reason

    return OwnerKind(
        kind="subscription",
        model=Subscription,
        column="subscription",
        view_perm="accounts.view_subscriptions",
        edit_perm="accounts.manage_subscriptions",
        detail_url=lambda subscription: reverse("billing:subscription_detail", args=[subscription.pk]),
        title=lambda subscription: subscription.name,
        currency=lambda subscription: subscription.currency,
        locked_reason=subscription_lines_locked_reason,
        active_nav="subscriptions",
        on_lines_changed=_lines_changed,
        adjustments=False,
    )


def register() -> None:
    """Called once from BillingConfig.ready(), after the quote checkout's registrations."""
    from billing import demo_subscriptions
    from billing.editor import register_owner_kind
    from commerce_hub import demo, registry
    from crm.panels import register_panel

    register_owner_kind(owner_kind())
    # After the quotes (whose paid quote starts a subscription) and the payment links.
    demo.register_seeder("billing-subscriptions", demo_subscriptions.seed, order=38)
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
