"""Reads for the deals board and the CRM configuration pages."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from djmoney.money import Money

from commerce_hub.text import is_id
from crm.models import Company, Contact, Deal, LifecycleStage, Pipeline, PropertyDefinition, Stage

# Cards shown per column; the rest are one click away in the table view, filtered by stage.
BOARD_CARD_LIMIT = 100


@dataclass
class StageSummary:
    count: int = 0
    totals: list[Money] = field(default_factory=list)  # one per currency, never added across currencies


@dataclass
class BoardColumn:
    stage: Stage
    summary: StageSummary
    cards: list[Deal]

    @property
    def more(self) -> int:
        return max(self.summary.count - len(self.cards), 0)


def pipelines_ordered() -> QuerySet[Pipeline]:
    """The default pipeline first, then the admin's order."""
    return Pipeline.objects.order_by("-is_default", "position", "id")


def board_pipeline(*, pipeline_id) -> Pipeline | None:
    """The pipeline asked for, or the default one; None when the tenant has no pipeline at all."""
    qs = pipelines_ordered()
    if pipeline_id is not None and is_id(pipeline_id):
        found = qs.filter(pk=int(pipeline_id)).first()
        if found is not None:
            return found
    return qs.first()


def board_stage_summaries(*, pipeline: Pipeline) -> dict[int, StageSummary]:
    """Deal count and amount totals per stage and currency, in one grouped query."""
    rows = (
        Deal.objects.filter(pipeline=pipeline)
        .values("stage_id", "amount_currency")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("stage_id", "amount_currency")
    )
    summaries: dict[int, StageSummary] = {}
    for row in rows:
        summary = summaries.setdefault(row["stage_id"], StageSummary())
        summary.count += row["n"]
        if row["total"] is not None and row["amount_currency"]:
            summary.totals.append(Money(Decimal(row["total"]), row["amount_currency"]))
    return summaries


def board_columns(*, pipeline: Pipeline, limit: int = BOARD_CARD_LIMIT) -> list[BoardColumn]:
    """One column per stage, in order, with at most `limit` cards each (most recently changed first).

    One query per stage for its cards, each an index range scan that stops after `limit` rows (a window over
    the whole pipeline would read every deal in it), plus the stages and the totals.
    """
    stages = list(pipeline.stages.order_by("position", "id"))
    summaries = board_stage_summaries(pipeline=pipeline)
    cards: dict[int, list[Deal]] = {}
    for stage in stages:
        cards[stage.pk] = list(
            Deal.objects.filter(stage=stage).select_related("company", "owner").order_by("-updated_at", "-id")[:limit]
        )
    return [
        BoardColumn(stage=stage, summary=summaries.get(stage.pk, StageSummary()), cards=cards[stage.pk])
        for stage in stages
    ]


# --- configuration pages ---------------------------------------------------------------------------------------


def _count_per_pipeline(qs: QuerySet) -> Coalesce:
    counted = qs.filter(pipeline=OuterRef("pk")).order_by().values("pipeline").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted), 0)


def pipeline_list_with_counts() -> QuerySet[Pipeline]:
    # Subqueries rather than two joins: joining stages and deals together would multiply the rows counted.
    # In the admin's order (the one the up and down buttons change); the board puts the default first.
    return Pipeline.objects.order_by("position", "id").annotate(
        stage_count=_count_per_pipeline(Stage.objects.all()), deal_count=_count_per_pipeline(Deal.objects.all())
    )


def stages_with_counts(*, pipeline: Pipeline) -> QuerySet[Stage]:
    return pipeline.stages.annotate(deal_count=Count("deals")).order_by("position", "id")


def lifecycle_stages_with_usage() -> list[LifecycleStage]:
    """Every lifecycle stage with how many companies and contacts are in it (two grouped queries)."""
    stages = list(LifecycleStage.objects.order_by("position", "id"))
    usage: dict[str, int] = {}
    for model in (Company, Contact):
        for key, n in model.objects.values_list("lifecycle_stage").annotate(n=Count("id")).order_by():
            usage[key] = usage.get(key, 0) + n
    for stage in stages:
        stage.record_count = usage.get(stage.key, 0)
    return stages


def property_definitions(*, object_type: str) -> QuerySet[PropertyDefinition]:
    return PropertyDefinition.objects.filter(object_type=object_type).order_by("is_archived", "position", "id")
