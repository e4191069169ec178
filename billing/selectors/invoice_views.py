"""The invoice index's saved views (commerce_hub.saved_views)."""

from django.db.models import QuerySet

from commerce_hub.saved_views import SavedViewIndex
from commerce_hub.saved_views.models import SavedView
from commerce_hub.saved_views.selectors import saved_views_for

INVOICE_VIEWS = SavedViewIndex(name="billing.invoice", share_perm="accounts.edit_invoices", audit_prefix="invoice")


def invoice_saved_views(user) -> QuerySet[SavedView]:
    return saved_views_for(index=INVOICE_VIEWS, user=user)
