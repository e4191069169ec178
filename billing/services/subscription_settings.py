"""Settings → Subscriptions: the dunning retry schedule, what the last failed retry does, and when trial reminders
go out."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from billing.models import AfterFinalRetry, SubscriptionSettings
from commerce_hub.accounts.services.audit import audit_record

MAX_RETRIES = 10
MAX_RETRY_DAY = 60
MAX_REMINDER_DAYS = 60


def retry_days_parse(text: str) -> list[int]:
    """ "1, 3, 5, 7" -> [1, 3, 5, 7]: increasing positive whole days, at most ten of them."""
    parts = [part.strip() for part in (text or "").replace(";", ",").split(",") if part.strip()]
    if not parts:
        raise ValidationError({"retry_days": [_("Enter at least one day, for example 1, 3, 5, 7.")]})
    if len(parts) > MAX_RETRIES:
        raise ValidationError({"retry_days": [_("At most 10 retries.")]})
    days = []
    for part in parts:
        if not part.isdigit() or len(part) > 3:
            raise ValidationError(
                {"retry_days": [_("“%(part)s” is not a whole number of days.") % {"part": part[:20]}]}
            )
        days.append(int(part))
    if days[0] < 1 or any(b <= a for a, b in zip(days, days[1:], strict=False)):
        raise ValidationError({"retry_days": [_("Days must be positive and each later than the one before.")]})
    if days[-1] > MAX_RETRY_DAY:
        raise ValidationError({"retry_days": [_("The last retry must be within 60 days.")]})
    return days


@transaction.atomic
def subscription_settings_update(
    *, retry_days: str, after_final_retry: str, trial_reminder_days: int, actor
) -> SubscriptionSettings:
    errors: dict[str, list[str]] = {}
    days: list[int] = []
    try:
        days = retry_days_parse(retry_days)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if after_final_retry not in AfterFinalRetry.values:
        errors["after_final_retry"] = [_("Choose what happens after the last retry.")]
    if not 0 <= trial_reminder_days <= MAX_REMINDER_DAYS:
        errors["trial_reminder_days"] = [_("Enter between 0 and 60 days.")]
    if errors:
        raise ValidationError(errors)
    row, _created = SubscriptionSettings.objects.select_for_update().get_or_create(pk=1)
    before = {
        "retry_days": row.retry_days,
        "after_final_retry": row.after_final_retry,
        "trial_reminder_days": row.trial_reminder_days,
    }
    row.retry_days = days
    row.after_final_retry = after_final_retry
    row.trial_reminder_days = trial_reminder_days
    row.save(update_fields=["retry_days", "after_final_retry", "trial_reminder_days"])
    audit_record(
        actor=actor,
        action="subscription_settings.updated",
        obj=row,
        object_repr="subscription settings",
        before=before,
        after={"retry_days": days, "after_final_retry": after_final_retry, "trial_reminder_days": trial_reminder_days},
    )
    return row
