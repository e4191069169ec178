"""A company or contact that a finalized invoice is addressed to is kept: the invoice must not lose its buyer.
Draft invoices do not hold a record back (deleting the buyer just empties the draft's field)."""

from collections.abc import Sequence

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import Invoice, InvoiceStatus
from crm.deletion import register_deletion_guard

SHOWN = 5  # invoice numbers named in the message; the rest are counted


def finalized_invoices_guard(object_type: str, ids: Sequence[int]) -> list[str]:
    if object_type == "company":
        invoices = Invoice.objects.filter(company_id__in=ids)
    elif object_type == "contact":
        invoices = Invoice.objects.filter(contacts__in=ids)
    else:
        return []
    finalized = invoices.exclude(status=InvoiceStatus.DRAFT).order_by("sequence", "pk")
    numbers = list(finalized.values_list("number", flat=True).distinct())
    if not numbers:
        return []
    named = ", ".join(numbers[:SHOWN])
    if len(numbers) > SHOWN:
        rest = len(numbers) - SHOWN
        named = ngettext("%(named)s and %(n)d more", "%(named)s and %(n)d more", rest) % {"named": named, "n": rest}
    one, many = len(numbers) == 1, len(ids) > 1
    messages = {
        ("company", False): (
            _("This company cannot be deleted: finalized invoice %(numbers)s is addressed to it."),
            _("This company cannot be deleted: finalized invoices %(numbers)s are addressed to it."),
        ),
        ("company", True): (
            _("These companies cannot be deleted: finalized invoice %(numbers)s is addressed to one of them."),
            _("These companies cannot be deleted: finalized invoices %(numbers)s are addressed to them."),
        ),
        ("contact", False): (
            _("This contact cannot be deleted: finalized invoice %(numbers)s is addressed to it."),
            _("This contact cannot be deleted: finalized invoices %(numbers)s are addressed to it."),
        ),
        ("contact", True): (
            _("These contacts cannot be deleted: finalized invoice %(numbers)s is addressed to one of them."),
            _("These contacts cannot be deleted: finalized invoices %(numbers)s are addressed to them."),
        ),
    }
    message = messages[(object_type, many)][0 if one else 1]
    return [message % {"numbers": named}]


def register_deletion_guards() -> None:
    register_deletion_guard("billing.finalized-invoices", finalized_invoices_guard)
