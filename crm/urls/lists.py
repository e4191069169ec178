from django.urls import path

from crm.views import lists

urlpatterns = [
    path("lists/", lists.list_index, name="list_index"),
    path("lists/new/", lists.list_create, name="list_create"),
    path("lists/<int:pk>/", lists.list_detail, name="list_detail"),
    path("lists/<int:pk>/add/", lists.list_members_add, name="list_members_add"),
    path("lists/<int:pk>/remove/", lists.list_members_remove, name="list_members_remove"),
    path("lists/<int:pk>/delete/", lists.list_delete, name="list_delete"),
]
