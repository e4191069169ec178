from django.urls import path

from billing.views import payment_links as views

# The seller's payment link pages. The link's lines are edited by the shared line item editor, whose routes the
# owner kind "payment_link" gets under payment-links/<pk>/line-items/ (billing/urls/line_items.py).
urlpatterns = [
    path("payment-links/", views.payment_link_list, name="payment_link_list"),
    path("payment-links/new/", views.payment_link_new, name="payment_link_new"),
    path("payment-links/<int:pk>/", views.payment_link_detail, name="payment_link_detail"),
    path("payment-links/<int:pk>/edit/", views.payment_link_edit, name="payment_link_edit"),
    path("payment-links/<int:pk>/active/", views.payment_link_active, name="payment_link_active"),
    path("payment-links/<int:pk>/qr.<str:fmt>", views.payment_link_qr, name="payment_link_qr"),
]
