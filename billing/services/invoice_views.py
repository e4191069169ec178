"""Saved invoice views: a name for a query string of the invoices index, personal or shared with the team."""

from billing.selectors.invoice_views import INVOICE_VIEWS
from commerce_hub.saved_views import services
from commerce_hub.saved_views.models import SavedView

SHARE = INVOICE_VIEWS.share_perm


def invoice_saved_view_create(*, name: str, query: str, shared: bool, actor) -> SavedView:
    return services.saved_view_create(index=INVOICE_VIEWS, name=name, query=query, shared=shared, actor=actor)


def invoice_saved_view_check_delete(*, view: SavedView, actor) -> None:
    services.saved_view_check_delete(view=view, actor=actor)


def invoice_saved_view_delete(*, view: SavedView, actor) -> None:
    services.saved_view_delete(index=INVOICE_VIEWS, view=view, actor=actor)
