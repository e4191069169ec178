from django.urls import path

from payments.views import records

urlpatterns = [
    path("", records.payment_index, name="payment_index"),
    path("export/", records.payment_export, name="payment_export"),
    path("views/save/", records.payment_view_save, name="payment_view_save"),
    path("views/<int:pk>/delete/", records.payment_view_delete, name="payment_view_delete"),
    path("<int:pk>/", records.payment_detail, name="payment_detail"),
    path("<int:pk>/refund/", records.refund_new, name="refund_new"),
    path("<int:pk>/receipt.pdf", records.receipt_pdf, name="receipt_pdf"),
    path("<int:pk>/receipt/send/", records.receipt_send, name="receipt_send"),
]
