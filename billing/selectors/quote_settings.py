"""Reads of Settings → Quotes: the settings row, the pipelines and stages a paid quote can move its deal to, and the
settings in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_percent
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import QuoteSettings
from commerce_hub.money import current_locale, money_format
from crm.models import Pipeline, Stage


def quote_settings_get() -> QuoteSettings:
    """The tenant's quote settings (one row, pk 1), created with the defaults on first use."""
    settings, _created = QuoteSettings.objects.get_or_create(pk=1)
    return settings


@dataclass(frozen=True)
class PipelineStages:
    pipeline: Pipeline
    stages: list[Stage]
    won_stage: Stage | None  # the stage a paid quote moves this pipeline's deals to; None: they stay


def won_stage_rows(settings: QuoteSettings | None = None) -> list[PipelineStages]:
    """Every pipeline (the default first) with its active stages and the configured "won on payment" stage, in two
    queries. A configured stage that was archived or moved away since counts as none."""
    settings = settings or quote_settings_get()
    pipelines = list(Pipeline.objects.order_by("-is_default", "position", "id"))
    stages: dict[int, list[Stage]] = {p.pk: [] for p in pipelines}
    for stage in Stage.objects.filter(pipeline__in=pipelines).order_by("position", "id"):
        stages[stage.pipeline_id].append(stage)
    rows = []
    for pipeline in pipelines:
        wanted = (settings.won_stages or {}).get(str(pipeline.pk))
        won = next((s for s in stages[pipeline.pk] if s.pk == wanted), None)
        rows.append(PipelineStages(pipeline=pipeline, stages=stages[pipeline.pk], won_stage=won))
    return rows


def quote_won_stage_for(deal) -> Stage | None:
    """The stage `deal` moves to when one of its quotes is paid, or None when it stays where it is."""
    wanted = (quote_settings_get().won_stages or {}).get(str(deal.pipeline_id))
    if wanted is None:
        return None
    return Stage.objects.filter(pk=wanted, pipeline_id=deal.pipeline_id).first()


def percent_text(value, *, places: int = 2) -> str:
    """A percentage (20 for 20%) as the reader writes it, with up to `places` decimals: "12.5%", "12,5%" in Dutch,
    "12,5 %" in Norwegian."""
    return format_percent(value / 100, format="#,##0." + "#" * places + "%", locale=current_locale())


def quote_settings_summary(
    settings: QuoteSettings | None = None, *, approvers=None, next_number: str | None = None
) -> list[str]:
    """The settings in plain words, one sentence per topic, in the reader's language; with `approvers`, who they are,
    and with `next_number`, the number the next quote gets."""
    settings = settings or quote_settings_get()
    lines = []
    percent = settings.approval_discount_percent
    amount = settings.approval_total_amount
    if settings.approvals_enabled and (percent is not None or amount is not None):
        values = {
            "percent": percent_text(percent) if percent is not None else "",
            "amount": money_format(amount, settings.approval_total_currency) if amount is not None else "",
        }
        if percent is not None and amount is not None:
            text = _(
                "Quotes with a discount above %(percent)s or a total above %(amount)s need an approver's approval "
                "before they are published."
            )
        elif percent is not None:
            text = _("Quotes with a discount above %(percent)s need an approver's approval before they are published.")
        else:
            text = _("Quotes with a total above %(amount)s need an approver's approval before they are published.")
        lines.append(text % values)
        if approvers is not None:
            if approvers:
                names = ", ".join(user.full_name or user.email for user in approvers)
                lines.append(
                    ngettext(
                        "%(count)d person can approve quotes: %(names)s.",
                        "%(count)d people can approve quotes: %(names)s.",
                        len(approvers),
                    )
                    % {"count": len(approvers), "names": names}
                )
            else:
                lines.append(_("No one can approve quotes: there is no active admin."))
    else:
        lines.append(_("Quotes are published without approval."))
    lines.append(
        ngettext(
            "New quotes expire %(days)d day after they are created.",
            "New quotes expire %(days)d days after they are created.",
            settings.expiry_days,
        )
        % {"days": settings.expiry_days}
    )
    lines.append(
        _("New quotes ask the buyer for an e-signature.")
        if settings.signature_required
        else _("New quotes do not ask for an e-signature.")
    )
    lines.append(
        _("New quotes collect payment through the checkout.")
        if settings.payment_enabled
        else _("New quotes do not collect payment.")
    )
    # One whole sentence per pipeline: translators never see a fragment glued into another sentence.
    moves = [
        _("When a quote is paid, deals in %(pipeline)s move to %(stage)s.")
        % {"pipeline": row.pipeline.name, "stage": row.won_stage.name}
        for row in won_stage_rows(settings)
        if row.won_stage is not None
    ]
    if moves:
        lines.extend(moves)
        lines.append(_("Deals in other pipelines stay where they are when their quote is paid."))
    else:
        lines.append(_("When a quote is paid, its deal stays in its stage."))
    if next_number is not None:
        lines.append(_("The next quote will be numbered %(number)s.") % {"number": next_number})
    return lines
