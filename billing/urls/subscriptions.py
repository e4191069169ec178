from django.urls import path

from billing.views import coupons
from billing.views import subscriptions as views
from billing.views import subscriptions_changes as changes
from billing.views import subscriptions_new as new
from billing.views import subscriptions_settings as settings_views

urlpatterns = [
    path("subscriptions/", views.subscription_list, name="subscription_list"),
    path("subscriptions/views/save/", views.subscription_view_save, name="subscription_view_save"),
    path("subscriptions/views/<int:pk>/delete/", views.subscription_view_delete, name="subscription_view_delete"),
    path("subscriptions/settings/", settings_views.subscription_settings, name="subscription_settings"),
    path("subscriptions/coupons/", coupons.coupon_list, name="coupon_list"),
    path("subscriptions/coupons/new/", coupons.coupon_new, name="coupon_new"),
    path("subscriptions/coupons/<int:pk>/archive/", coupons.coupon_archive_view, name="coupon_archive"),
    path("subscriptions/new/<str:object_type>/<int:record_pk>/", new.subscription_new, name="subscription_new"),
    path("subscriptions/<int:pk>/", views.subscription_detail, name="subscription_detail"),
    path("subscriptions/<int:pk>/pause/", changes.subscription_pause, name="subscription_pause"),
    path("subscriptions/<int:pk>/resume/", changes.subscription_resume, name="subscription_resume"),
    path("subscriptions/<int:pk>/cancel/", changes.subscription_cancel, name="subscription_cancel"),
    path("subscriptions/<int:pk>/cancel/undo/", changes.subscription_cancel_undo, name="subscription_cancel_undo"),
    path("subscriptions/<int:pk>/change/", changes.subscription_change, name="subscription_change"),
    path("subscriptions/<int:pk>/coupon/", changes.subscription_coupon, name="subscription_coupon"),
    path(
        "subscriptions/<int:pk>/coupon/remove/", changes.subscription_coupon_remove, name="subscription_coupon_remove"
    ),
    path("subscriptions/<int:pk>/simulate/", changes.subscription_simulate, name="subscription_simulate"),
]
