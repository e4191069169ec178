"""Saved views of the record indexes: the shared saved views (commerce_hub.saved_views), one index per kind."""

from commerce_hub.saved_views import services
from commerce_hub.saved_views.models import SavedView
from crm.index import VIEW_INDEXES


def saved_view_create(*, object_type: str, name: str, query: str, shared: bool, actor) -> SavedView:
    return services.saved_view_create(
        index=VIEW_INDEXES[object_type], name=name, query=query, shared=shared, actor=actor
    )


def saved_view_delete(*, object_type: str, view: SavedView, actor) -> None:
    """Your own views are yours to delete; shared views need someone who manages settings (or made it)."""
    services.saved_view_delete(index=VIEW_INDEXES[object_type], view=view, actor=actor)
