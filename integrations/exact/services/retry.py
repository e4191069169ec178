"""Pushing one record again by hand: the deal panel's "create invoice in Exact" and the sync log's retry."""

from __future__ import annotations

from commerce_hub.accounts.models import User
from integrations.exact.services import sync
from integrations.models import LinkKind


def push_again(*, kind: str, object_id: int, actor_id: int | None = None) -> str | None:
    if kind == LinkKind.COMPANY:
        return sync.company_push(company_id=object_id, force=True)
    if kind == LinkKind.CONTACT:
        return sync.contact_push(contact_id=object_id, force=True)
    if kind == LinkKind.PRODUCT:
        return sync.product_push(product_id=object_id)
    if kind == LinkKind.INVOICE:
        return sync.invoice_push(invoice_id=object_id)
    if kind == LinkKind.DEAL:
        actor = User.objects.filter(pk=actor_id).first() if actor_id else None
        return sync.deal_invoice_push(deal_id=object_id, actor=actor)
    return None
