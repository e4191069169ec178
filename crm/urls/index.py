from django.urls import path

from crm.views import records

urlpatterns = [
    path("companies/", records.company_list, name="company_list"),
    path("contacts/", records.contact_list, name="contact_list"),
    path("deals/", records.deal_list, name="deal_list"),
]
