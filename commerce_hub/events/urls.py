from django.urls import path

from commerce_hub.events import views

app_name = "events"
urlpatterns = [
    path("settings/events/", views.delivery_list, name="deliveries"),
    path("settings/events/<int:pk>/retry/", views.delivery_retry_view, name="delivery_retry"),
]
