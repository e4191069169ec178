from django.db.models import Q, QuerySet

from commerce_hub.saved_views import SavedViewIndex
from commerce_hub.saved_views.models import SavedView


def saved_views_for(*, index: SavedViewIndex, user) -> QuerySet[SavedView]:
    """The views of one index that `user` sees: their own and the shared ones."""
    return SavedView.objects.filter(Q(owner=user) | Q(owner__isnull=True), index=index.name).order_by("name", "id")
