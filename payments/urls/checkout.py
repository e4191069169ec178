"""The buyer's checkout (no login: the invoice's public token) and the built-in processor's simulated pages."""

from django.urls import path

from payments.views import checkout, simulator

urlpatterns = [
    path("pay/<str:token>/", checkout.checkout, name="checkout"),
    path("pay/<str:token>/return/", checkout.checkout_returned, name="checkout_returned"),
    path("pay/<str:token>/p/<str:public_id>/", checkout.checkout_payment, name="checkout_payment"),
    path("pay/<str:token>/p/<str:public_id>/cancel/", checkout.checkout_cancel, name="checkout_cancel"),
    path("simulator/<str:object_id>/", simulator.simulator, name="simulator"),
]
