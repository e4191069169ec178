"""Settings → Exact Online: connect (OAuth, the state bound to this session), the connection's state, disconnect,
and the settings read back."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commerce_hub.access import require_perm
from integrations.exact.selectors.options import settings_summary
from integrations.exact.services.connection import connection_complete, connection_disconnect, connection_start
from integrations.exact.services.setup import exact_settings_get
from integrations.models import ConnectionState, ExactConnection, ExactCountry

PERM = "accounts.manage_settings"


def ctx(**extra) -> dict:
    return {"active_nav": "settings", "settings_tab": "exact", **extra}


def connection_get() -> ExactConnection:
    return ExactConnection.objects.filter(pk=1).first() or ExactConnection(pk=1)


@require_perm(PERM)
@require_GET
def exact_settings(request):
    row = connection_get()
    return render(
        request,
        "integrations/exact/settings.html",
        ctx(
            connection=row,
            connected=row.state == ConnectionState.CONNECTED,
            reconnect=row.state == ConnectionState.RECONNECT,
            countries=ExactCountry.choices,
            summary=settings_summary(exact_settings_get()),
            confirm_disconnect=request.GET.get("confirm") == "disconnect",
        ),
    )


@require_perm(PERM)
@require_POST
def exact_connect(request):
    redirect_uri = request.build_absolute_uri(reverse("exact:callback"))
    try:
        url = connection_start(
            session=request.session, country=request.POST.get("country", ""), redirect_uri=redirect_uri
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("exact:settings")
    return redirect(url)


@require_perm(PERM)
@require_GET
def exact_callback(request):
    if request.GET.get("error"):
        request.session.pop("integrations.exact.oauth", None)
        messages.error(request, _("Exact Online did not grant access."))
        return redirect("exact:settings")
    try:
        row = connection_complete(
            session=request.session, code=request.GET.get("code", ""), state=request.GET.get("state", "")
        )
    except ValidationError as exc:
        return render(request, "integrations/exact/callback_refused.html", ctx(errors=exc.messages), status=400)
    messages.success(
        request,
        _("Connected to Exact Online as %(user)s, division %(division)s.")
        % {"user": row.user_name, "division": row.division_name or row.division},
    )
    return redirect("exact:settings")


@require_perm(PERM)
@require_http_methods(["POST"])
def exact_disconnect(request):
    if request.POST.get("confirm") != "yes":
        return redirect(f"{reverse('exact:settings')}?confirm=disconnect")
    connection_disconnect()
    messages.success(request, _("Disconnected from Exact Online. Nothing syncs until you connect again."))
    return redirect("exact:settings")
