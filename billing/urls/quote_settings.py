"""Settings → Quotes (approvals, defaults, won stages, numbering), quote templates, and the approval actions."""

from django.urls import path

from billing.views import quote_approvals, quote_settings

urlpatterns = [
    path("quotes/settings/", quote_settings.quote_settings, name="quote_settings"),
    path("quotes/settings/templates/", quote_settings.quote_template_list_view, name="quote_template_list"),
    path("quotes/settings/templates/new/", quote_settings.quote_template_create, name="quote_template_create"),
    path("quotes/settings/templates/<int:pk>/", quote_settings.quote_template_edit, name="quote_template_edit"),
    path(
        "quotes/settings/templates/<int:pk>/archive/",
        quote_settings.quote_template_archive,
        name="quote_template_archive",
    ),
    path(
        "quotes/settings/templates/<int:pk>/restore/",
        quote_settings.quote_template_restore,
        name="quote_template_restore",
    ),
    path(
        "quotes/settings/templates/<int:pk>/default/",
        quote_settings.quote_template_make_default,
        name="quote_template_default",
    ),
    path(
        "quotes/settings/templates/<int:pk>/preview/",
        quote_settings.quote_template_preview,
        name="quote_template_preview",
    ),
    path("quotes/settings/templates/<int:pk>/logo/", quote_settings.quote_template_logo, name="quote_template_logo"),
    path(
        "quotes/<int:pk>/approval/request/",
        quote_approvals.quote_request_approval_view,
        name="quote_request_approval",
    ),
    path("quotes/<int:pk>/approval/approve/", quote_approvals.quote_approve_view, name="quote_approve"),
    path("quotes/<int:pk>/approval/reject/", quote_approvals.quote_reject_view, name="quote_reject"),
]
