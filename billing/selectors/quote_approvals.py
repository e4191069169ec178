"""Whether a quote needs approval before it is published, and why; who may decide; what the record page shows.

A quote needs approval when approvals are on (Settings → Quotes) and its largest discount is above the discount
limit, or its total is above the total limit. The discount is measured two ways and the larger counts: each line's
own discount as a share of that line's undiscounted price, and the whole quote's discount (line discounts plus
one-time discounts) as a share of its undiscounted amount. Exactly at a limit needs no approval. The total is the
quote's total as printed, converted to the limit's currency at the latest exchange rate valid today; with no rate
the total cannot be compared, so the quote needs approval and the reason says so.

An approval covers the exact priced content it was asked for: the request stores a fingerprint of the pricing
engine's inputs (lines and one-time adjustments), and any later change to them needs approval again.

Self-approval: the person who asked for approval cannot decide on it, unless they are an admin and nobody else can
approve quotes. A second pair of eyes is the point of an approval (HubSpot, Salesforce and PandaDoc all route the
request to someone else); the exception keeps a one-person company from locking itself out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from enum import Enum
from fractions import Fraction

from django.utils import timezone
from django.utils.translation import gettext as _

from billing import editor, pricing
from billing.models import (
    ApprovalDecision,
    DocumentAdjustment,
    LineItem,
    Quote,
    QuoteApproval,
    QuoteSettings,
    QuoteStatus,
)
from billing.selectors.exchange_rates import exchange_rate_on
from billing.selectors.quote_settings import percent_text, quote_settings_get
from commerce_hub.accounts.roles import Role
from commerce_hub.accounts.selectors import users_with_permission
from commerce_hub.money import money_format

APPROVE_PERMISSION = "accounts.approve_quotes"
# States from which a quote can be sent for approval: a draft, or an approved quote whose content changed since.
REQUESTABLE_STATUSES = (QuoteStatus.DRAFT, QuoteStatus.APPROVED)


def _canonical(value):
    """Engine inputs as plain JSON: Decimals normalised (2.000000 and 2 are the same price), enums by value."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {key: _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def quote_priced_content(quote: Quote) -> tuple[list[LineItem], list[DocumentAdjustment]]:
    lines = list(LineItem.objects.filter(quote=quote).select_related("tax_rate").order_by("position", "id"))
    adjustments = list(DocumentAdjustment.objects.filter(quote=quote).order_by("position", "id"))
    return lines, adjustments


def quote_fingerprint(quote: Quote, lines=None, adjustments=None) -> str:
    """SHA-256 of what the quote's prices are made of: its currency, and its lines and one-time adjustments exactly
    as the pricing engine reads them. Lines are sorted, so reordering them is not a change; names and descriptions
    are not priced, so renaming a line is not one either."""
    if lines is None or adjustments is None:
        lines, adjustments = quote_priced_content(quote)
    line_rows = sorted(json.dumps(_canonical(asdict(editor.line_input(line))), sort_keys=True) for line in lines)
    adjustment_rows = [
        json.dumps(_canonical(asdict(editor.adjustment_input(adjustment))), sort_keys=True)
        for adjustment in adjustments
    ]
    payload = json.dumps({"currency": quote.currency, "lines": line_rows, "adjustments": adjustment_rows})
    return hashlib.sha256(payload.encode()).hexdigest()


def _decimal(value: Fraction) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return Decimal(value.numerator) / Decimal(value.denominator)


def _percent_shown(value: Fraction, limit: Decimal) -> str:
    """The discount as a percentage with as few decimals as show that it is above the limit: 20.004% over a 20%
    limit reads "20.004%", never a "20%" that seems equal to it."""
    exact = _decimal(value)
    for places in (2, 4):
        shown = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        if shown > limit:
            return percent_text(shown, places=places)
    return percent_text(exact.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP), places=6)


def largest_discount_percent(summary: pricing.DocumentSummary) -> Fraction:
    """The larger of each line's discount share of its undiscounted price and the whole quote's discount (line
    discounts plus one-time discounts) share of its undiscounted amount, in percent, exactly (ratios of the
    engine's exact outputs; no money is computed here)."""
    largest = Fraction(0)
    for line in summary.lines:
        if line.exact.gross > 0:
            largest = max(largest, line.exact.discount / line.exact.gross * 100)
    gross = summary.exact.gross_total
    if gross > 0:
        largest = max(largest, (summary.exact.discount_total + summary.exact.one_time_discount_total) / gross * 100)
    return largest


@dataclass(frozen=True)
class ApprovalAssessment:
    reasons: list[str]
    fingerprint: str
    discount_percent: Fraction | None = None
    total: Decimal | None = None


def quote_approval_assess(quote: Quote, settings: QuoteSettings | None = None) -> ApprovalAssessment:
    """The thresholds the quote's current content passes (as sentences in the reader's language), and the
    fingerprint of that content."""
    settings = settings or quote_settings_get()
    lines, adjustments = quote_priced_content(quote)
    fingerprint = quote_fingerprint(quote, lines, adjustments)
    if not settings.approvals_enabled:
        return ApprovalAssessment(reasons=[], fingerprint=fingerprint)
    try:
        summary = editor.summary(lines, adjustments, currency=quote.currency)
    except pricing.PricingError:
        return ApprovalAssessment(
            reasons=[_("The quote's lines cannot be priced as they are; correct them first.")],
            fingerprint=fingerprint,
        )
    reasons = []
    discount = largest_discount_percent(summary)
    limit = settings.approval_discount_percent
    if limit is not None and discount > Fraction(limit):
        reasons.append(
            _("Its discount of %(discount)s is above the approval limit of %(limit)s.")
            % {"discount": _percent_shown(discount, limit), "limit": percent_text(limit)}
        )
    amount, currency = settings.approval_total_amount, settings.approval_total_currency
    if amount is not None and currency:
        total_text = money_format(summary.total, quote.currency)
        limit_text = money_format(amount, currency)
        rate = exchange_rate_on(quote.currency, currency, timezone.localdate())
        if rate is None:
            reasons.append(
                _(
                    "There is no exchange rate from %(from)s to %(to)s, so its total of %(total)s cannot be "
                    "compared with the approval limit of %(limit)s."
                )
                % {"from": quote.currency, "to": currency, "total": total_text, "limit": limit_text}
            )
        else:
            converted = rate.apply(summary.total)
            if converted > amount:
                if quote.currency == currency:
                    reasons.append(
                        _("Its total of %(total)s is above the approval limit of %(limit)s.")
                        % {"total": total_text, "limit": limit_text}
                    )
                else:
                    reasons.append(
                        _(
                            "Its total of %(total)s (%(converted)s at %(rate)s) is above the approval limit of "
                            "%(limit)s."
                        )
                        % {
                            "total": total_text,
                            "converted": money_format(converted, currency),
                            "rate": rate.display(),
                            "limit": limit_text,
                        }
                    )
    return ApprovalAssessment(reasons=reasons, fingerprint=fingerprint, discount_percent=discount, total=summary.total)


def quote_approval_latest(quote: Quote) -> QuoteApproval | None:
    return (
        QuoteApproval.objects.filter(quote=quote)
        .select_related("requested_by", "decided_by")
        .order_by("-requested_at", "-id")
        .first()
    )


def quote_approval_required(quote: Quote) -> list[str]:
    """Why `quote` needs an approver's approval before it is published, as sentences in the reader's language;
    empty when it needs none: approvals are off, it is within the limits, or its current priced content is exactly
    what an approver approved. Publishing calls this and refuses while the list is not empty."""
    assessment = quote_approval_assess(quote)
    if not assessment.reasons:
        return []
    if quote_approval_covers(quote, assessment.fingerprint):
        return []
    return assessment.reasons


def quote_approval_covers(quote: Quote, fingerprint: str) -> bool:
    """Whether an approver approved exactly this priced content (the latest decision counts: a rejection after an
    approval of the same content withdraws it)."""
    decided = (
        QuoteApproval.objects.filter(quote=quote)
        .exclude(decision=ApprovalDecision.PENDING)
        .order_by("-decided_at", "-id")
        .values_list("decision", "fingerprint")
        .first()
    )
    return decided is not None and decided == (ApprovalDecision.APPROVED, fingerprint)


# --- who decides ------------------------------------------------------------------------------------------------------


def quote_approvers() -> list:
    """Active users who hold the permission to approve quotes (admins by default)."""
    return users_with_permission(APPROVE_PERMISSION)


def quote_approvers_for(requester) -> list:
    """Who is asked to decide on a request by `requester`: every approver but the requester; the requester alone
    when they are an admin and nobody else can approve; nobody otherwise."""
    approvers = quote_approvers()
    requester_id = getattr(requester, "pk", None)
    others = [user for user in approvers if user.pk != requester_id]
    if others:
        return others
    if requester_id is not None and any(user.pk == requester_id for user in approvers):
        return [requester] if requester.role == Role.ADMIN else []
    return []


def quote_decision_refusal(approval: QuoteApproval, user) -> str:
    """Why `user` may not approve or reject this request ("" when they may)."""
    if not user.has_perm(APPROVE_PERMISSION):
        return _("Only people who may approve quotes can approve or reject them.")
    if approval.requested_by_id is not None and approval.requested_by_id == user.pk:
        if user.role == Role.ADMIN and not any(other.pk != user.pk for other in quote_approvers()):
            return ""
        return _("You asked for this approval yourself: another approver has to decide on it.")
    return ""


# --- the record page's approval section -------------------------------------------------------------------------------


def quote_approval_panel(*, quote: Quote, user) -> dict:
    """What the approval section of a quote's record page shows (templates/billing/quotes/_approval.html): the
    state, the reasons, the latest request with who decided and their comment, and what `user` may do."""
    settings = quote_settings_get()
    assessment = quote_approval_assess(quote, settings)
    latest = quote_approval_latest(quote)
    pending = latest if latest is not None and latest.decision == ApprovalDecision.PENDING else None
    covered = bool(assessment.reasons) and quote_approval_covers(quote, assessment.fingerprint)
    approved = latest if latest is not None and latest.decision == ApprovalDecision.APPROVED else None
    # An approval whose content changed since it was given: the quote needs approval again.
    changed_since = approved is not None and approved.fingerprint != assessment.fingerprint
    required = [] if covered else assessment.reasons
    refusal = quote_decision_refusal(pending, user) if pending is not None else ""
    can_request = (
        pending is None
        and bool(required)
        and quote.status in REQUESTABLE_STATUSES
        and user.has_perm("accounts.edit_quotes")
    )
    history = list(
        QuoteApproval.objects.filter(quote=quote)
        .exclude(decision=ApprovalDecision.PENDING)
        .select_related("requested_by", "decided_by")
        .order_by("-decided_at", "-id")
    )
    return {
        "quote": quote,
        "enabled": settings.approvals_enabled,
        "required": required,
        "pending": pending,
        "latest": latest,
        "history": history,
        "changed_since": changed_since,
        "can_request": can_request,
        "can_decide": pending is not None and not refusal,
        "decide_refusal": refusal if pending is not None and user.has_perm(APPROVE_PERMISSION) else "",
    }
