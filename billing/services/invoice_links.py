"""An invoice's hosted link: replacing it when it went somewhere it should not (a forwarded email). How long a link
keeps working after the invoice is paid is an invoice setting (hosted_link_settings_update)."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Invoice, InvoiceLinkRevoked, InvoiceStatus
from billing.services.invoice_records import invoice_change_record, invoice_lock


@transaction.atomic
def invoice_link_regenerate(*, invoice: Invoice, actor) -> Invoice:
    """Revoke the invoice's hosted link and give it a new one. Whoever opens the old link (the invoice page, its PDF
    or its checkout) is told it was replaced and whom to ask; the new link goes wherever the invoice is sent next."""
    invoice = invoice_lock(invoice)
    if invoice.status == InvoiceStatus.DRAFT or not invoice.public_token:
        raise ValidationError(_("A draft has no link yet: it gets one when it is finalized."))
    InvoiceLinkRevoked.objects.create(
        invoice=invoice, token=invoice.public_token, revoked_by=actor if getattr(actor, "pk", None) else None
    )
    Invoice.objects.filter(pk=invoice.pk).update(public_token=secrets.token_urlsafe(32), updated_at=timezone.now())
    invoice.refresh_from_db()
    invoice_change_record(invoice, kind="link_regenerated", actor=actor)
    return invoice
