from django.conf import settings
from django.urls import include, path

from commerce_hub import views as views_shell
from commerce_hub.registry import registered_urls
from commerce_hub.tenancy import views

urlpatterns = [
    path("", views.landing, name="landing"),
    path("signup/", views.signup, name="signup"),
    path("language/", views_shell.language_set, name="language_set"),
    *[path(mount.prefix, include(mount.module)) for mount in registered_urls(public=True)],
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

handler404 = "commerce_hub.views.error_404"
handler403 = "commerce_hub.views.error_403"
handler500 = "commerce_hub.views.error_500"
