from django.urls import path

from crm.views import imports

urlpatterns = [
    path("import/", imports.import_list, name="import_list"),
    path("import/<str:object_type>/", imports.import_start, name="import_start"),
    path("import/jobs/<int:pk>/", imports.import_detail, name="import_detail"),
    path("import/jobs/<int:pk>/mapping/", imports.import_mapping, name="import_mapping"),
    path("import/jobs/<int:pk>/preview/", imports.import_preview, name="import_preview"),
    path("import/jobs/<int:pk>/progress/", imports.import_progress, name="import_progress"),
    path("import/jobs/<int:pk>/run/", imports.import_run, name="import_run"),
    path("import/jobs/<int:pk>/errors.csv", imports.import_errors_csv, name="import_errors_csv"),
]
