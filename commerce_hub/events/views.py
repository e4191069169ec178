from django.contrib import messages
from django.db.models import Q
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from commerce_hub.access import get_for_user, require_perm
from commerce_hub.events.mail import email_retry
from commerce_hub.events.models import Delivery, OutgoingEmail
from commerce_hub.events.services import delivery_retry
from commerce_hub.pagination import keyset_page

# The email page's tabs: status -> (label, the emails it lists).
EMAIL_TABS = {
    "failed": (gettext_lazy("Failed"), Q(failed_at__isnull=False, sent_at__isnull=True)),
    "waiting": (gettext_lazy("Waiting"), Q(failed_at__isnull=True, sent_at__isnull=True)),
    "sent": (gettext_lazy("Sent"), Q(sent_at__isnull=False)),
}


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
            "failed_emails": OutgoingEmail.objects.filter(EMAIL_TABS["failed"][1]).exists(),
            "active_nav": "settings",
            "settings_tab": "events",
        },
    )


@require_perm("accounts.view_audit_log", "accounts.manage_settings")
@require_POST
def delivery_retry_view(request, pk: int):
    delivery = get_for_user(request.user, Delivery.objects.select_related("event"), "accounts.manage_settings", pk=pk)
    if delivery_retry(delivery=delivery, actor=request.user):
        messages.success(request, _("Delivery queued again."))
    else:
        messages.info(request, _("This delivery is not failed any more; nothing was queued."))
    return redirect("events:deliveries")


@require_perm("accounts.view_audit_log")
def email_list(request):
    status = request.GET.get("status", "failed")
    if status not in EMAIL_TABS:
        status = "failed"
    qs = OutgoingEmail.objects.filter(EMAIL_TABS[status][1]).defer("text", "html")
    page = keyset_page(qs, ordering=["-id"], cursor=request.GET.get("after"), size=50)
    return render(
        request,
        "events/emails.html",
        {
            "page": page,
            "status": status,
            "statuses": [(value, label) for value, (label, _emails) in EMAIL_TABS.items()],
            "active_nav": "settings",
            "settings_tab": "events",
        },
    )


@require_perm("accounts.view_audit_log", "accounts.manage_settings")
@require_POST
def email_retry_view(request, pk: int):
    email = get_for_user(request.user, OutgoingEmail.objects.defer("text", "html"), "accounts.manage_settings", pk=pk)
    if email_retry(email=email, actor=request.user):
        messages.success(request, _("Email queued again."))
    else:
        messages.info(request, _("This email is not failed any more; nothing was queued."))
    return redirect("events:emails")
