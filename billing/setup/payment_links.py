"""Payment links' registrations: links as a line item owner kind (the shared editor builds their lines from the
product library), the Payment links menu entry, the handler that completes a paid purchase, the page the payments
checkout sends a buyer to once a purchase is paid, and the demo links."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _L


def _lines_changed(link, actor) -> None:
    from billing.services.payment_links import payment_link_lines_changed

    payment_link_lines_changed(link=link, actor=actor)


def _builder_url(link) -> str:
    return reverse("billing:payment_link_edit", args=[link.pk])


def owner_kind():
    from billing.editor import OwnerKind
    from billing.models import PaymentLink

    return OwnerKind(
        kind="payment_link",
        model=PaymentLink,
        column="payment_link",
        view_perm="accounts.view_payments",
        edit_perm="accounts.manage_payments",
        detail_url=_builder_url,
        title=lambda link: link.name,
        currency=lambda link: link.currency,
        active_nav="payment-links",
        url_segment="payment-links",
        on_lines_changed=_lines_changed,
        adjustments=False,
    )


def register() -> None:
    """Called once from BillingConfig.ready()."""
    from billing import (
        demo_payment_links,
        payment_link_handlers,  # noqa: F401 - registers the handler
    )
    from billing.editor import register_owner_kind
    from billing.hosted import register_after_payment_url
    from billing.services.payment_link_checkout import payment_link_after_payment_url
    from commerce_hub import demo, registry

    register_owner_kind(owner_kind())
    registry.register_nav_entry(
        key="payment-links",
        label=_L("Payment links"),
        section="commerce",
        order=40,
        url_name="billing:payment_link_list",
        permission="accounts.view_payments",
    )
    register_after_payment_url(payment_link_after_payment_url)
    demo.register_seeder("billing-payment-links", demo_payment_links.seed, order=37)
