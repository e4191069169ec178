"""The tenant's security policy (idle timeout, two-factor requirement), read on every signed-in request."""

from django.core.cache import cache

_POLICY_CACHE_KEY = "accounts:security-policy"


def security_policy():
    """The tenant's policy, created on first read, cached per tenant (the cache's key function adds the schema)."""
    from commerce_hub.accounts.models import SecurityPolicy

    policy = cache.get(_POLICY_CACHE_KEY)
    if policy is None:
        policy, _created = SecurityPolicy.objects.get_or_create(pk=1)
        cache.set(_POLICY_CACHE_KEY, policy, timeout=300)
    return policy


def security_policy_forget() -> None:
    cache.delete(_POLICY_CACHE_KEY)
