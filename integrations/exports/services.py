"""Writes of the exports feature: the tenant's export settings."""

from __future__ import annotations

from django.db import transaction

from billing.pdf_attachments import pdf_cache_forget
from commerce_hub.accounts.services.audit import audit_record
from integrations.models import ExportSettings

FIELDS = ("embed_ubl_in_pdf", "seller_endpoint_scheme", "seller_endpoint_id", "buyer_endpoint_source")


@transaction.atomic
def export_settings_update(*, actor, **values) -> ExportSettings:
    """Save the export settings. Anything that changes what an invoice PDF embeds (embedding on or off, the
    endpoints printed in the XML) drops the cached PDFs, so each renders again from its unchanged snapshot."""
    settings = ExportSettings.objects.select_for_update().filter(pk=1).first() or ExportSettings(pk=1)
    before = {name: getattr(settings, name) for name in FIELDS}
    for name in FIELDS:
        if name in values:
            setattr(settings, name, values[name])
    after = {name: getattr(settings, name) for name in FIELDS}
    settings.save()
    if before != after and (before["embed_ubl_in_pdf"] or after["embed_ubl_in_pdf"]):
        pdf_cache_forget()
    if before != after:
        audit_record(
            actor=actor,
            action="export_settings.updated",
            object_type="integrations.exportsettings",
            before=before,
            after=after,
        )
    return settings
