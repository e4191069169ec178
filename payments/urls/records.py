from django.urls import path

from payments.views import records

urlpatterns = [
    path("", records.payment_index, name="payment_index"),
]
