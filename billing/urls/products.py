from django.urls import path

from billing.views import product_imports as imports
from billing.views import products as views

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/export.csv", views.product_export, name="product_export"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/archive/", views.product_archive, name="product_archive"),
    path("products/folders/", views.folder_list, name="folder_list"),
    path("products/folders/<int:pk>/", views.folder_edit, name="folder_edit"),
    path("products/folders/<int:pk>/delete/", views.folder_delete, name="folder_delete"),
    path("products/import/", imports.import_start, name="product_import_start"),
    path("products/import/<int:pk>/", imports.import_detail, name="product_import_detail"),
    path("products/import/<int:pk>/mapping/", imports.import_mapping, name="product_import_mapping"),
    path("products/import/<int:pk>/preview/", imports.import_preview, name="product_import_preview"),
    path("products/import/<int:pk>/progress/", imports.import_progress, name="product_import_progress"),
    path("products/import/<int:pk>/run/", imports.import_run, name="product_import_run"),
    path("products/import/<int:pk>/errors.csv", imports.import_errors_csv, name="product_import_errors_csv"),
]
