from django.urls import path

from billing.views import quote_schedule

urlpatterns = [
    # The builder's payment schedule step.
    path("quotes/<int:pk>/schedule/", quote_schedule.quote_schedule, name="quote_schedule"),
]
