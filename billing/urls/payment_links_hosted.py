from django.urls import path

from billing.views import payment_links_hosted as views

# The buyer's pages of a payment link: no login, the link's unguessable token in the URL (guesses are rate-limited
# under /billing/l/, settings.HOSTED_TOKEN_PATH_PREFIXES).
urlpatterns = [
    path("l/<str:token>/", views.payment_link_hosted, name="payment_link_hosted"),
    path("l/<str:token>/done/<str:public_id>/", views.payment_link_done, name="payment_link_done"),
]
