"""Payment links, the seller's side: create one, change its settings, and turn it off and on.

A link's lines are edited with the shared line item editor (owner kind "payment_link", billing/setup). A link's
currency is its lines' currency, so it cannot change while it has lines, nor once somebody bought through it (its
revenue is summed in it). Deactivating a link stops it taking purchases at once: the buyer's page says so, a form
sent after it is refused under the link's row lock, and the open invoices of purchases not paid yet are voided so
their checkout takes no payment either.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from babel.numbers import is_currency
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from billing import events
from billing.models import (
    Invoice,
    InvoiceStatus,
    LineItem,
    PaymentLink,
    PaymentLinkPurchase,
    PaymentMethod,
)
from billing.models.payment_links import AfterPayment, PurchaseStatus
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.services import event_emit

# Bounds checked at input: a buyer never buys more than this many at once, a trial lasts at most two years.
MAX_QUANTITY = 10_000
MAX_TRIAL_DAYS = 730
MAX_MESSAGE = 2000


@dataclass
class PaymentLinkValues:
    name: str
    currency: str
    language: str = "en"
    payment_methods: list[str] = field(default_factory=list)
    adjustable_quantity: bool = False
    min_quantity: int = 1
    max_quantity: int = 99
    collect_billing_address: bool = False
    collect_phone: bool = False
    after_payment: str = AfterPayment.MESSAGE
    thank_you_message: str = ""
    redirect_url: str = ""
    trial_days: int | None = None


FIELDS = [
    "name",
    "currency",
    "language",
    "payment_methods",
    "adjustable_quantity",
    "min_quantity",
    "max_quantity",
    "collect_billing_address",
    "collect_phone",
    "after_payment",
    "thank_you_message",
    "redirect_url",
    "trial_days",
]


def values_of(link: PaymentLink) -> PaymentLinkValues:
    return PaymentLinkValues(**{name: getattr(link, name) for name in FIELDS})


def redirect_url_problem(url: str) -> str:
    """Why `url` cannot be where buyers are sent after paying ("" when it can): an absolute https URL only."""
    url = url.strip()
    if not url:
        return _("Enter the address buyers go to after paying.")
    if len(url) > 500:
        return _("Keep the address under 500 characters.")
    try:
        URLValidator(schemes=["https"])(url)
    except ValidationError:
        return _("Enter a full https:// address, such as https://example.com/thanks.")
    if urlsplit(url).username or urlsplit(url).password:
        return _("The address cannot contain a user name or password.")
    return ""


def _errors(values: PaymentLinkValues, link: PaymentLink | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not values.name.strip():
        errors["name"] = [_("Give the link a name.")]
    elif len(values.name) > 200:
        errors["name"] = [_("Keep the name under 200 characters.")]
    if not is_currency(values.currency or ""):
        errors["currency"] = [_("Unknown currency.")]
    elif link is not None and values.currency != link.currency:
        if LineItem.objects.filter(payment_link=link).exists():
            errors["currency"] = [
                _("Remove the line items first: they are priced in %(currency)s.") % {"currency": link.currency}
            ]
        elif PaymentLinkPurchase.objects.filter(link=link).exists():
            errors["currency"] = [_("People bought through this link: its currency can no longer change.")]
    if values.language not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose one of the listed languages.")]
    if any(method not in PaymentMethod.values for method in values.payment_methods):
        errors["payment_methods"] = [_("Choose from the listed payment methods.")]
    elif not values.payment_methods:
        errors["payment_methods"] = [_("Accept at least one payment method.")]
    if values.adjustable_quantity:
        if not 1 <= values.min_quantity <= MAX_QUANTITY:
            errors["min_quantity"] = [_("Enter between 1 and %(max)d.") % {"max": MAX_QUANTITY}]
        if not 1 <= values.max_quantity <= MAX_QUANTITY:
            errors["max_quantity"] = [_("Enter between 1 and %(max)d.") % {"max": MAX_QUANTITY}]
        elif "min_quantity" not in errors and values.max_quantity < values.min_quantity:
            errors["max_quantity"] = [_("The maximum cannot be below the minimum.")]
    if values.after_payment not in AfterPayment.values:
        errors["after_payment"] = [_("Choose what buyers see after paying.")]
    elif values.after_payment == AfterPayment.REDIRECT:
        problem = redirect_url_problem(values.redirect_url)
        if problem:
            errors["redirect_url"] = [problem]
    if len(values.thank_you_message) > MAX_MESSAGE:
        errors["thank_you_message"] = [_("Keep the message under 2,000 characters.")]
    if values.trial_days is not None and not 1 <= values.trial_days <= MAX_TRIAL_DAYS:
        errors["trial_days"] = [_("Enter between 1 and %(max)d days, or leave it empty.") % {"max": MAX_TRIAL_DAYS}]
    return errors


def _apply(link: PaymentLink, values: PaymentLinkValues) -> list[str]:
    """Set the link's fields from `values`; returns the names that changed."""
    cleaned = {
        **{name: getattr(values, name) for name in FIELDS},
        "name": values.name.strip(),
        "payment_methods": [m for m in PaymentMethod.values if m in values.payment_methods],
        "redirect_url": values.redirect_url.strip() if values.after_payment == AfterPayment.REDIRECT else "",
        "thank_you_message": values.thank_you_message.strip(),
    }
    if not values.adjustable_quantity:
        cleaned["min_quantity"], cleaned["max_quantity"] = 1, max(link.max_quantity or 1, 1)
    changed = [name for name, value in cleaned.items() if getattr(link, name) != value]
    for name, value in cleaned.items():
        setattr(link, name, value)
    return changed


def _actor(actor):
    return actor if getattr(actor, "pk", None) else None


@transaction.atomic
def payment_link_create(*, values: PaymentLinkValues, actor) -> PaymentLink:
    """A new active link with no lines yet (the editor adds them). Raises ValidationError keyed by field."""
    errors = _errors(values, None)
    if errors:
        raise ValidationError(errors)
    link = PaymentLink(public_token=secrets.token_urlsafe(32), created_by=_actor(actor))  # 256 random bits
    _apply(link, values)
    link.created_at = link.updated_at = timezone.now()
    link.save()
    audit_record(actor=_actor(actor), action="payment_link.created", obj=link, object_repr=link.name)
    event_emit(name=events.PAYMENT_LINK_CREATED, payload={"id": link.pk})
    return link


@transaction.atomic
def payment_link_update(*, link: PaymentLink, values: PaymentLinkValues, actor) -> PaymentLink:
    link = PaymentLink.objects.select_for_update().get(pk=link.pk)
    errors = _errors(values, link)
    if errors:
        raise ValidationError(errors)
    changed = _apply(link, values)
    if not changed:
        return link
    link.updated_at = timezone.now()
    link.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor=_actor(actor), action="payment_link.updated", obj=link, object_repr=link.name, after={"fields": changed}
    )
    event_emit(name=events.PAYMENT_LINK_UPDATED, payload={"id": link.pk, "fields": changed})
    return link


def payment_link_lines_changed(*, link: PaymentLink, actor) -> None:
    """The editor changed the link's lines (in its transaction, under the link's lock): the link was updated."""
    PaymentLink.objects.filter(pk=link.pk).update(updated_at=timezone.now())


def _expire_open_purchases(link: PaymentLink, *, actor) -> int:
    """Void the open invoices of the link's unpaid purchases, so their checkout takes no payment. An invoice that
    took a payment meanwhile is left alone (it cannot be voided; its purchase completes when it is paid)."""
    from billing.services.invoice_payments import invoice_void

    expired = 0
    purchases = PaymentLinkPurchase.objects.filter(link=link, status=PurchaseStatus.OPEN).select_related("invoice")
    for purchase in purchases:
        invoice: Invoice | None = purchase.invoice
        if invoice is not None and invoice.status == InvoiceStatus.OPEN:
            try:
                with transaction.atomic(), override(link.language):
                    invoice_void(
                        invoice=invoice,
                        actor=actor,
                        reason=_("Payment link %(name)s was deactivated.") % {"name": link.name},
                    )
            except ValidationError:
                continue
        elif invoice is not None and invoice.status == InvoiceStatus.PAID:
            continue
        expired += PaymentLinkPurchase.objects.filter(pk=purchase.pk, status=PurchaseStatus.OPEN).update(
            status=PurchaseStatus.EXPIRED
        )
    return expired


@transaction.atomic
def payment_link_set_active(*, link: PaymentLink, active: bool, actor) -> PaymentLink:
    """Turn the link on or off (a conditional update: doing it twice changes nothing the second time)."""
    link = PaymentLink.objects.select_for_update().get(pk=link.pk)
    if link.active == active:
        return link
    link.active = active
    link.updated_at = timezone.now()
    link.save(update_fields=["active", "updated_at"])
    if active:
        audit_record(actor=_actor(actor), action="payment_link.activated", obj=link, object_repr=link.name)
        event_emit(name=events.PAYMENT_LINK_UPDATED, payload={"id": link.pk, "fields": ["active"]})
    else:
        expired = _expire_open_purchases(link, actor=_actor(actor))
        audit_record(
            actor=_actor(actor),
            action="payment_link.deactivated",
            obj=link,
            object_repr=link.name,
            after={"expired_purchases": expired},
        )
        event_emit(name=events.PAYMENT_LINK_DEACTIVATED, payload={"id": link.pk})
    return link
