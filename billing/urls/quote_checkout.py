from django.urls import path

from billing.views import quote_checkout, quote_schedule

urlpatterns = [
    # The builder's payment schedule step.
    path("quotes/<int:pk>/schedule/", quote_schedule.quote_schedule, name="quote_schedule"),
    # The buyer's Pay button on the hosted quote page: no login, the publication's unguessable token in the URL.
    path("q/<str:token>/checkout/", quote_checkout.quote_checkout, name="quote_checkout"),
]
