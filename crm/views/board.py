"""The deals board: one column per stage of a pipeline, with drag and drop between stages."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from commerce_hub.access import get_for_user, require_perm
from commerce_hub.text import is_id
from crm.models import Deal
from crm.selectors_board import (
    BOARD_CARD_LIMIT,
    StageSummary,
    board_columns,
    board_pipeline,
    board_stage_summaries,
    pipelines_ordered,
)
from crm.services.records import deal_move_stage


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_perm("accounts.view_crm")
@require_GET
def deal_board(request):
    pipeline = board_pipeline(pipeline_id=request.GET.get("pipeline"))
    columns = board_columns(pipeline=pipeline) if pipeline else []
    return render(
        request,
        "crm/board/board.html",
        {
            "pipeline": pipeline,
            "pipelines": list(pipelines_ordered()) if pipeline else [],
            "columns": columns,
            "stages": [column.stage for column in columns],
            "has_deals": any(column.summary.count for column in columns),
            "card_limit": BOARD_CARD_LIMIT,
            "today": timezone.localdate(),
            "can_edit": request.user.has_perm("accounts.edit_crm"),
            "active_nav": "deals",
        },
    )


def _summaries_html(request, pipeline) -> dict[str, str]:
    summaries = board_stage_summaries(pipeline=pipeline)
    return {
        str(stage.pk): render_to_string(
            "crm/board/_summary.html", {"summary": summaries.get(stage.pk, StageSummary())}, request=request
        )
        for stage in pipeline.stages.all()
    }


@require_perm("accounts.edit_crm")
@require_POST
def deal_move(request, pk: int):
    """Move a deal to another stage. The board's script asks for JSON and gets every column's new count and totals;
    the plain form (no script) is sent back to the board with a message."""
    deal = get_for_user(request.user, Deal.objects.select_related("pipeline"), "accounts.edit_crm", pk=pk)
    board_url = f"{reverse('crm:deal_board')}?pipeline={deal.pipeline_id}"
    stage_id = request.POST.get("stage", "")
    try:
        if not is_id(stage_id):
            raise ValidationError(_("Choose a stage."))
        moved = deal_move_stage(deal=deal, stage_id=int(stage_id), actor=request.user)
    except ValidationError as exc:
        message = " ".join(exc.messages)
        if _wants_json(request):
            return JsonResponse({"ok": False, "error": message}, status=400)
        messages.error(request, message)
        return redirect(board_url)
    if _wants_json(request):
        return JsonResponse(
            {"ok": True, "deal": moved.pk, "stage": moved.stage_id, "columns": _summaries_html(request, deal.pipeline)}
        )
    messages.success(request, _("“%(deal)s” moved to %(stage)s.") % {"deal": moved.name, "stage": _(moved.stage.name)})
    return redirect(board_url)
