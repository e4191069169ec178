from django.urls import path

from crm.views import records

urlpatterns = [
    path("companies/<int:pk>/", records.company_detail, name="company_detail"),
    path("contacts/<int:pk>/", records.contact_detail, name="contact_detail"),
    path("deals/<int:pk>/", records.deal_detail, name="deal_detail"),
]
