from django.urls import path

from commerce_hub.events import views

app_name = "events"
urlpatterns = [
    path("settings/events/", views.delivery_list, name="deliveries"),
    path("settings/events/<int:pk>/retry/", views.delivery_retry_view, name="delivery_retry"),
    path("settings/events/emails/", views.email_list, name="emails"),
    path("settings/events/emails/<int:pk>/retry/", views.email_retry_view, name="email_retry"),
]
