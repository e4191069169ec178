"""The sync log (with retry), the reconciliation page and the deal's manual push."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from commerce_hub.access import get_for_user, require_perm
from crm.models import Deal
from integrations.exact import tasks
from integrations.exact.client import ExactRefused, ExactUnavailable, RateLimited
from integrations.exact.selectors.reconciliation import reconciliation
from integrations.exact.selectors.sync_log import sync_log_page
from integrations.exact.tokens import NotConnected
from integrations.exact.views.connection import PERM, ctx
from integrations.models import LinkKind, SyncLog


@require_perm(PERM)
@require_GET
def sync_log(request):
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    page = sync_log_page(status=status, kind=kind, cursor=request.GET.get("after"))
    query = urlencode({k: v for k, v in (("status", status), ("kind", kind)) if v})
    return render(
        request,
        "integrations/exact/sync_log.html",
        ctx(page=page, query=query, status=status, kind=kind, statuses=SyncLog.Status.choices, kinds=LinkKind.choices),
    )


@require_perm(PERM)
@require_POST
def sync_log_retry(request, pk: int):
    entry = get_object_or_404(SyncLog, pk=pk)
    if not entry.kind or entry.object_id is None:
        raise Http404
    tasks.push.delay_on_commit(entry.kind, entry.object_id, request.user.pk)
    messages.success(request, _("Sent to Exact again. The outcome appears here in a moment."))
    return redirect("exact:sync_log")


@require_perm(PERM)
@require_GET
def reconciliation_page(request):
    differences, problem = [], ""
    try:
        differences = reconciliation()
    except NotConnected:
        problem = _("Connect Exact Online first.")
    except (ExactUnavailable, ExactRefused, RateLimited):
        problem = _("Exact Online could not be asked just now. Try again in a minute.")
    return render(request, "integrations/exact/reconciliation.html", ctx(differences=differences, problem=problem))


@require_perm("accounts.create_invoices")
@require_POST
def deal_push(request, pk: int):
    deal = get_for_user(request.user, Deal.objects.all(), "accounts.create_invoices", pk=pk)
    tasks.push.delay_on_commit(LinkKind.DEAL, deal.pk, request.user.pk)
    messages.success(request, _("The invoice is on its way to Exact Online."))
    return redirect("crm:deal_detail", pk=deal.pk)
