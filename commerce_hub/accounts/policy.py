"""The tenant's security policy (idle timeout, two-factor requirement), read on every signed-in request."""

from django.core.cache import cache

_POLICY_CACHE_KEY = "accounts:security-policy"


def security_policy():
    """The tenant's policy (its defaults until an admin saves it), cached per tenant (the cache's key function adds
    the schema)."""
    from commerce_hub.accounts.models import SecurityPolicy

    policy = cache.get(_POLICY_CACHE_KEY)
    if policy is None:
        # Read, never written here: a tenant that never changed its policy has the defaults (the settings page
        # saves the row), and a page view writes nothing.
        policy = SecurityPolicy.objects.filter(pk=1).first() or SecurityPolicy(pk=1)
        cache.set(_POLICY_CACHE_KEY, policy, timeout=300)
    return policy


def security_policy_forget() -> None:
    cache.delete(_POLICY_CACHE_KEY)
