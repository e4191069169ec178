from django.urls import path

from crm.views import configuration as views

urlpatterns = [
    path("settings/pipelines/", views.pipeline_list, name="pipeline_list"),
    path("settings/pipelines/<int:pk>/", views.pipeline_detail, name="pipeline_detail"),
    path("settings/pipelines/<int:pk>/default/", views.pipeline_make_default, name="pipeline_make_default"),
    path("settings/pipelines/<int:pk>/move/", views.pipeline_move, name="pipeline_move"),
    path("settings/pipelines/<int:pk>/delete/", views.pipeline_delete, name="pipeline_delete"),
    path("settings/pipelines/<int:pk>/stages/", views.stage_create, name="stage_create"),
    path("settings/stages/<int:pk>/", views.stage_edit, name="stage_edit"),
    path("settings/stages/<int:pk>/move/", views.stage_move, name="stage_move"),
    path("settings/stages/<int:pk>/delete/", views.stage_delete, name="stage_delete"),
    path("settings/lifecycle-stages/", views.lifecycle_list, name="lifecycle_list"),
    path("settings/lifecycle-stages/<int:pk>/", views.lifecycle_edit, name="lifecycle_edit"),
    path("settings/lifecycle-stages/<int:pk>/move/", views.lifecycle_move, name="lifecycle_move"),
    path("settings/lifecycle-stages/<int:pk>/active/", views.lifecycle_set_active, name="lifecycle_set_active"),
    path("settings/lifecycle-stages/<int:pk>/delete/", views.lifecycle_delete, name="lifecycle_delete"),
    path("settings/properties/", views.property_list, name="property_list"),
    path("settings/properties/new/", views.property_create, name="property_create"),
    path("settings/properties/<int:pk>/", views.property_edit, name="property_edit"),
    path("settings/properties/<int:pk>/move/", views.property_move, name="property_move"),
    path("settings/properties/<int:pk>/archive/", views.property_archive, name="property_archive"),
]
