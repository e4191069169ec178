from django.shortcuts import render

from commerce_hub.access import get_for_user, require_perm
from commerce_hub.pagination import keyset_page
from crm import selectors
from crm.models import Company, Contact, Deal


def _list(request, template, qs, ordering, nav):
    search = request.GET.get("q", "").strip()[:100]
    page = keyset_page(qs(search=search), ordering=ordering, cursor=request.GET.get("after"), size=50)
    return render(request, template, {"page": page, "q": search, "active_nav": nav})


@require_perm("accounts.view_crm")
def company_list(request):
    return _list(request, "crm/company_list.html", selectors.company_list, ["name", "id"], "companies")


@require_perm("accounts.view_crm")
def contact_list(request):
    return _list(request, "crm/contact_list.html", selectors.contact_list, ["-updated_at", "-id"], "contacts")


@require_perm("accounts.view_crm")
def deal_list(request):
    return _list(request, "crm/deal_list.html", selectors.deal_list, ["-updated_at", "-id"], "deals")


@require_perm("accounts.view_crm")
def company_detail(request, pk: int):
    company = get_for_user(request.user, Company.objects.select_related("owner"), "accounts.view_crm", pk=pk)
    return render(
        request,
        "crm/company_detail.html",
        {
            "company": company,
            "contacts": company.contacts.select_related("owner").order_by("last_name", "id")[:100],
            "deals": company.deals.select_related("stage").order_by("-updated_at")[:100],
            "active_nav": "companies",
        },
    )


@require_perm("accounts.view_crm")
def contact_detail(request, pk: int):
    contact = get_for_user(request.user, Contact.objects.select_related("company", "owner"), "accounts.view_crm", pk=pk)
    return render(
        request,
        "crm/contact_detail.html",
        {
            "contact": contact,
            "deals": contact.deals.select_related("stage")[:100],
            "active_nav": "contacts",
        },
    )


@require_perm("accounts.view_crm")
def deal_detail(request, pk: int):
    deal = get_for_user(
        request.user,
        Deal.objects.select_related("stage", "pipeline", "company", "owner"),
        "accounts.view_crm",
        pk=pk,
    )
    return render(
        request,
        "crm/deal_detail.html",
        {
            "deal": deal,
            "contacts": deal.contacts.all(),
            "stage_changes": deal.stage_changes.select_related("from_stage", "to_stage", "changed_by"),
            "active_nav": "deals",
        },
    )
