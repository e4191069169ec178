"""The deal's "Exact Online" panel: whether its invoice reached Exact, and a button to send it now."""

from __future__ import annotations

from django.urls import reverse

from crm.panels import register_panel
from integrations.exact.services.sync import link_get
from integrations.models import ConnectionState, ExactConnection, ExactLink, LinkKind, SyncLog


def deal_panel_context(request, deal) -> dict:
    connection = ExactConnection.objects.filter(pk=1).first()
    deal_link = link_get(LinkKind.DEAL, deal.pk)
    invoice_id = (deal_link.data or {}).get("invoice_id") if deal_link else None
    invoice_link = link_get(LinkKind.INVOICE, invoice_id) if invoice_id else None
    last_error = (
        SyncLog.objects.filter(kind=LinkKind.DEAL, object_id=deal.pk, status=SyncLog.Status.FAILED)
        .values_list("error", flat=True)
        .first()
    )
    if invoice_link and invoice_link.state == ExactLink.State.SYNCED:
        state = "synced"
    elif (invoice_link and invoice_link.state == ExactLink.State.FAILED) or last_error:
        state = "failed"
    elif deal_link:
        state = "pending"
    else:
        state = "none"
    return {
        "connected": bool(connection and connection.state == ConnectionState.CONNECTED),
        "state": state,
        "link": invoice_link,
        "error": (invoice_link.last_error if invoice_link else "") or last_error or "",
        "can_push": request.user.has_perm("accounts.create_invoices"),
        "push_url": reverse("exact:deal_push", args=[deal.pk]),
    }


def register() -> None:
    register_panel(
        name="exact",
        object_type="deal",
        order=40,
        permission="accounts.view_invoices",
        template="integrations/exact/deal_panel.html",
        context=deal_panel_context,
    )
