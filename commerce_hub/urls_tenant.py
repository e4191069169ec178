from django.conf import settings
from django.urls import include, path

from commerce_hub import views
from commerce_hub.registry import placeholder_pages, registered_urls

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("commerce_hub.accounts.urls")),
    path("", include("commerce_hub.organization.urls")),
    path("", include("commerce_hub.events.urls")),
    path("crm/", include("crm.urls")),
    path("billing/", include("billing.urls")),
    path("language/", views.language_set, name="language_set"),
    *[path(mount.prefix, include(mount.module)) for mount in registered_urls(public=False)],
    *[
        path(f"{module}/", views.module_index, {"module": module}, name=f"module_{module.replace('-', '_')}")
        for module in placeholder_pages()
    ],
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()

handler404 = "commerce_hub.views.error_404"
handler403 = "commerce_hub.views.error_403"
handler500 = "commerce_hub.views.error_500"
