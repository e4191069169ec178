"""Payment on a quote: the handlers that complete a paid checkout and start the subscriptions of an accepted quote,
the Pay button of the hosted quote page, the payment section of its record page, and the Subscriptions panel of
deals, companies and contacts."""

OBJECT_TYPES = ("company", "contact", "deal")


def subscriptions_panel_context(request, record, object_type: str) -> dict:
    from billing.selectors.subscriptions import subscription_panel_rows

    rows, has_more = subscription_panel_rows(object_type=object_type, record=record)
    return {"rows": rows, "has_more": has_more}


def payment_section_context(request, quote) -> dict | None:
    """The record page's payment section: shown for a quote that collects payment or has anything to show."""
    from billing.selectors.quote_payment import quote_payment_section

    payment = quote_payment_section(quote)
    shown = payment.enabled or payment.installments or payment.checkout_invoice or payment.subscriptions
    return {"payment": payment} if shown else None


def register() -> None:
    """Called once from BillingConfig.ready()."""
    from billing import quote_checkout_handlers  # noqa: F401 - registers the handlers
    from billing.quote_hosted_actions import quote_hosted_actions_register
    from billing.quote_sections import quote_detail_sections_register
    from billing.views.quote_checkout import pay_action
    from crm.panels import register_panel

    quote_hosted_actions_register(pay_action)
    quote_detail_sections_register(
        name="payment", template="billing/quotes/_payment.html", context_fn=payment_section_context, order=40
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
