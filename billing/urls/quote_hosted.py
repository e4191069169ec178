from django.urls import path

from billing.views import quote_hosted as views

urlpatterns = [
    # The rep publishes a quote (its next revision) and takes it back to draft to change it.
    path("quotes/<int:pk>/publish/", views.quote_publish, name="quote_publish"),
    path("quotes/<int:pk>/unpublish/", views.quote_unpublish, name="quote_unpublish"),
    path("quotes/<int:pk>/pdf/", views.quote_pdf, name="quote_pdf"),
    # The buyer's hosted page: no login, an unguessable token in the URL.
    path("q/<str:token>/", views.quote_hosted, name="quote_hosted"),
    path("q/<str:token>/pdf/", views.quote_hosted_pdf, name="quote_hosted_pdf"),
    path("q/<str:token>/signed-pdf/", views.quote_hosted_signed_pdf, name="quote_hosted_signed_pdf"),
    path("q/<str:token>/signers/<int:signer_id>/code/", views.quote_sign_code, name="quote_sign_code"),
    path("q/<str:token>/signers/<int:signer_id>/verify/", views.quote_sign_verify, name="quote_sign_verify"),
    path("q/<str:token>/signers/<int:signer_id>/sign/", views.quote_sign, name="quote_sign"),
    path("q/<str:token>/accept/", views.quote_accept, name="quote_accept"),
    path("q/<str:token>/decline/", views.quote_decline, name="quote_decline"),
]
