from django.urls import path

from crm.views import activities, records

# Each record route exists once per object type with its own name ("crm:company_field_edit", ...), so templates
# build URLs from a prefix ("crm:company") and every route keeps plain int/str parameters.
_PLURALS = {"company": "companies", "contact": "contacts", "deal": "deals"}
_DETAIL = {"company": records.company_detail, "contact": records.contact_detail, "deal": records.deal_detail}


def _record_routes(object_type: str, plural: str) -> list:
    kind = {"object_type": object_type}
    routes = [
        path(f"{plural}/new/", records.record_create_view, kind, name=f"{object_type}_create"),
        path(f"{plural}/<int:pk>/", _DETAIL[object_type], name=f"{object_type}_detail"),
        path(f"{plural}/<int:pk>/field/<str:key>/", records.record_field, kind, name=f"{object_type}_field"),
        path(
            f"{plural}/<int:pk>/field/<str:key>/edit/",
            records.record_field_edit,
            kind,
            name=f"{object_type}_field_edit",
        ),
        path(f"{plural}/<int:pk>/delete/", records.record_delete_view, kind, name=f"{object_type}_delete"),
        path(f"{plural}/<int:pk>/timeline/", activities.timeline, kind, name=f"{object_type}_timeline"),
        path(f"{plural}/<int:pk>/notes/", activities.note_add, kind, name=f"{object_type}_note_add"),
        path(f"{plural}/<int:pk>/tasks/", activities.task_add, kind, name=f"{object_type}_task_add"),
    ]
    if object_type in ("company", "deal"):
        routes += [
            path(
                f"{plural}/<int:pk>/contacts/search/",
                records.record_contact_search,
                kind,
                name=f"{object_type}_contact_search",
            ),
            path(
                f"{plural}/<int:pk>/contacts/add/",
                records.record_contact_add,
                kind,
                name=f"{object_type}_contact_add",
            ),
            path(
                f"{plural}/<int:pk>/contacts/<int:contact_pk>/remove/",
                records.record_contact_remove,
                kind,
                name=f"{object_type}_contact_remove",
            ),
        ]
    return routes


urlpatterns = [
    *[route for object_type, plural in _PLURALS.items() for route in _record_routes(object_type, plural)],
    path("companies/options/", records.company_options, name="company_options"),
    path("notes/<int:pk>/delete/", activities.note_delete, name="note_delete"),
    path("tasks/", activities.my_tasks, name="my_tasks"),
    path("tasks/<int:pk>/complete/", activities.task_complete, name="task_complete"),
    path("tasks/<int:pk>/reopen/", activities.task_reopen, name="task_reopen"),
]
