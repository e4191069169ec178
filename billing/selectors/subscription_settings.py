"""The tenant's subscription settings: dunning retries, what the last failed retry does, trial reminders."""

from billing.models import SubscriptionSettings


def subscription_settings_get() -> SubscriptionSettings:
    """The settings row (pk 1). Migration 0015 creates it; a schema that lost it reads the defaults without writing
    on a read path."""
    return SubscriptionSettings.objects.filter(pk=1).first() or SubscriptionSettings(pk=1)
