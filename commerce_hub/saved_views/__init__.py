"""Saved views of index pages: one model, form, services and selectors for every index (CRM records, invoices ...).

An app declares each of its index pages as a SavedViewIndex: the name its views are stored under, the permission
that may share a view with the team, and the prefix of its audit actions.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class SavedViewIndex:
    name: str  # "crm.company", "billing.invoice"
    share_perm: str  # who may share a view with the team
    audit_prefix: str  # audit actions "<prefix>.view_shared" and "<prefix>.view_deleted"
