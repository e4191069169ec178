"""Payment on a quote: the handlers that complete a paid checkout and start the subscriptions of an accepted quote,
the Pay button of the hosted quote page, and the Subscriptions panel of deals, companies and contacts."""

OBJECT_TYPES = ("company", "contact", "deal")


def subscriptions_panel_context(request, record, object_type: str) -> dict:
    from billing.selectors.subscriptions import subscription_panel_rows

    rows, has_more = subscription_panel_rows(object_type=object_type, record=record)
    return {"rows": rows, "has_more": has_more}


def register() -> None:
    """Called once from BillingConfig.ready()."""
    from billing import quote_checkout_handlers  # noqa: F401 - registers the handlers
    from billing.quote_hosted_actions import quote_hosted_actions_register
    from billing.views.quote_checkout import pay_action
    from crm.panels import register_panel

    quote_hosted_actions_register(pay_action)
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
