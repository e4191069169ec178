from django.urls import path

from billing.editor import owner_kinds
from billing.views import line_items as views

# The editor's routes exist once per registered document kind ("billing:deal_line_items", ...), like the CRM's
# record routes: a kind registered from an AppConfig (billing.editor.register_owner_kind) gets its set here.


def _editor_routes(kind: str, plural: str) -> list:
    k = {"owner_kind": kind}
    base = f"{plural}/<int:owner_pk>"
    return [
        path(f"{base}/line-items/", views.line_items_page, k, name=f"{kind}_line_items"),
        path(f"{base}/line-items/library/", views.line_library, k, name=f"{kind}_line_library"),
        path(f"{base}/line-items/custom/", views.line_custom, k, name=f"{kind}_line_custom"),
        path(f"{base}/line-items/reorder/", views.line_reorder, k, name=f"{kind}_line_reorder"),
        path(f"{base}/line-items/columns/", views.line_columns, k, name=f"{kind}_line_columns"),
        path(f"{base}/line-items/save/", views.line_save, k, name=f"{kind}_line_save"),
        path(f"{base}/line-items/<int:pk>/", views.line_row, k, name=f"{kind}_line_row"),
        path(f"{base}/line-items/<int:pk>/edit/", views.line_edit, k, name=f"{kind}_line_edit"),
        path(f"{base}/line-items/<int:pk>/preview/", views.line_preview, k, name=f"{kind}_line_preview"),
        path(f"{base}/line-items/<int:pk>/clone/", views.line_clone, k, name=f"{kind}_line_clone"),
        path(f"{base}/line-items/<int:pk>/move/", views.line_move, k, name=f"{kind}_line_move"),
        path(f"{base}/line-items/<int:pk>/delete/", views.line_delete, k, name=f"{kind}_line_delete"),
        path(f"{base}/adjustments/new/", views.adjustment_new, k, name=f"{kind}_adjustment_new"),
        path(f"{base}/adjustments/<int:pk>/", views.adjustment_edit, k, name=f"{kind}_adjustment_edit"),
        path(f"{base}/adjustments/<int:pk>/delete/", views.adjustment_delete, k, name=f"{kind}_adjustment_delete"),
    ]


urlpatterns = [
    route for kind in owner_kinds().values() for route in _editor_routes(kind.kind, kind.url_segment or f"{kind.kind}s")
]
