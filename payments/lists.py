"""Payments' criteria for CRM lists (crm.lists): "made a payment in the last N days", for contacts."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.lists import register_criterion
from payments.models import Payment, PaymentStatus

PAID_WITHIN = "contact.paid_within"
DEFAULT_DAYS = 30
MAX_DAYS = 3650  # what crm_list_create accepts


def _days(params: dict) -> int:
    """The list's number of days. A list saved through the form holds a checked whole number; anything else (an old
    or hand-edited definition) falls back to the default rather than breaking the list page."""
    try:
        days = int(str(params.get("days", DEFAULT_DAYS)))
    except (TypeError, ValueError):
        return DEFAULT_DAYS
    return min(max(days, 1), MAX_DAYS)


def contacts_paid_within(queryset: QuerySet, params: dict) -> QuerySet:
    """Contacts who made a payment that succeeded in the last N days (N x 24 hours back from now). EXISTS, not a
    join: a contact who paid three times is still one row. Served by the (contact, -succeeded_at) index."""
    since = timezone.now() - timedelta(days=_days(params))
    paid = Payment.objects.filter(contact=OuterRef("pk"), status=PaymentStatus.SUCCEEDED, succeeded_at__gte=since)
    return queryset.filter(Exists(paid))


def criteria_register() -> None:
    register_criterion(
        PAID_WITHIN,
        object_type="contact",
        label=_("Made a payment in the last N days"),
        apply=contacts_paid_within,
        takes_days=True,
    )
