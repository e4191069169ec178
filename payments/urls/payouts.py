from django.urls import path

from payments.views import disputes, payouts

urlpatterns = [
    path("payouts/", payouts.payout_index, name="payout_index"),
    path("payouts/pay-now/", payouts.payout_now, name="payout_now"),
    path("payouts/<int:pk>/", payouts.payout_detail, name="payout_detail"),
    path("payouts/<int:pk>/export/", payouts.payout_export, name="payout_export"),
    path("disputes/<int:pk>/accept/", disputes.dispute_accept, name="dispute_accept"),
    path("disputes/<int:pk>/evidence/", disputes.dispute_evidence, name="dispute_evidence"),
]
