from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from commerce_hub.access import get_for_user, require_perm
from commerce_hub.events.models import Delivery
from commerce_hub.events.services import delivery_retry
from commerce_hub.pagination import keyset_page


@require_perm("accounts.view_audit_log")
def delivery_list(request):
    status = request.GET.get("status", Delivery.Status.FAILED)
    if status not in Delivery.Status.values:
        status = Delivery.Status.FAILED
    qs = Delivery.objects.filter(status=status).select_related("event")
    page = keyset_page(qs, ordering=["-id"], cursor=request.GET.get("after"), size=50)
    return render(
        request,
        "events/deliveries.html",
        {
            "page": page,
            "status": status,
            "statuses": Delivery.Status.choices,
            "active_nav": "settings",
            "settings_tab": "events",
        },
    )


@require_perm("accounts.view_audit_log", "accounts.manage_settings")
@require_POST
def delivery_retry_view(request, pk: int):
    delivery = get_for_user(request.user, Delivery.objects.select_related("event"), "accounts.manage_settings", pk=pk)
    delivery_retry(delivery=delivery, actor=request.user)
    messages.success(request, _("Delivery queued again."))
    return redirect("events:deliveries")
