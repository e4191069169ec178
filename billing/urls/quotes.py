from django.urls import path

from billing.views import quote_builder as builder
from billing.views import quote_index as index
from billing.views import quotes as views

# The quote's line items are the shared editor's routes ("billing:quote_line_items", /billing/quotes/<id>/line-items/),
# which billing/urls/line_items.py makes for every registered owner kind.
urlpatterns = [
    path("quotes/", index.quote_list, name="quote_list"),
    path("quotes/views/save/", index.quote_view_save, name="quote_view_save"),
    path("quotes/views/<int:pk>/delete/", index.quote_view_delete, name="quote_view_delete"),
    path("quotes/new/", views.quote_new, name="quote_new"),
    path("quotes/buyers/", views.quote_buyer_options, name="quote_buyer_options"),
    path("quotes/from-deal/<int:deal_pk>/", views.quote_create_from_deal, name="quote_create_from_deal"),
    path("quotes/<int:pk>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/delete/", views.quote_delete, name="quote_delete"),
    path("quotes/<int:pk>/convert/", views.quote_convert, name="quote_convert"),
    path("quotes/<int:pk>/build/<slug:step>/", builder.quote_step, name="quote_step"),
]
