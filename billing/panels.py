"""The invoices tab of CRM records: a company's, contact's or deal's newest invoices, with a way to all of them in
the index and to a new draft. Registered with the CRM's panel registry so that crm never imports billing."""

from django.urls import reverse

from billing.selectors.invoice_index import RECORD_FILTERS, invoice_panel_rows
from billing.selectors.receivables import account_entries, account_of_record, credit_balances
from crm.panels import register_panel

OBJECT_TYPES = ("company", "contact", "deal")


def invoices_panel_context(request, record, object_type: str) -> dict:
    rows, has_more = invoice_panel_rows(object_type=object_type, record=record)
    return {
        "rows": rows,
        "has_more": has_more,
        "view_all_url": f"{reverse('billing:invoice_list')}?{RECORD_FILTERS[object_type]}={record.pk}",
        "can_create": request.user.has_perm("accounts.create_invoices"),
        "create_url": reverse("billing:invoice_create_from", args=[object_type, record.pk]),
    }


def credit_panel_context(request, record, object_type: str) -> dict:
    """The customer's credit per currency and the newest entries of its account's ledger."""
    account = account_of_record(record)
    return {
        "balances": credit_balances(account),
        "entries": account_entries(account, limit=10),
        "can_add": request.user.has_perm("accounts.manage_payments"),
        "object_type": object_type,
        "record": record,
    }


def register_invoice_panels() -> None:
    for object_type in ("company", "contact"):
        register_panel(
            name="customer_credit",
            object_type=object_type,
            order=31,
            permission="accounts.view_invoices",
            template="billing/receivables/panel.html",
            context=lambda request, record, object_type=object_type: credit_panel_context(request, record, object_type),
        )
    for object_type in OBJECT_TYPES:
        register_panel(
            name="invoices",
            object_type=object_type,
            order=30,
            permission="accounts.view_invoices",
            template="billing/invoices/panel.html",
            context=lambda request, record, object_type=object_type: invoices_panel_context(
                request, record, object_type
            ),
        )
