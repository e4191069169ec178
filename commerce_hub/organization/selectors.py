from django.core.cache import cache

from commerce_hub.organization.models import OrganizationProfile

_CACHE_KEY = "organization-profile"


def organization_profile_get() -> OrganizationProfile:
    profile = OrganizationProfile.objects.filter(pk=1).first()
    return profile if profile is not None else OrganizationProfile(pk=1, legal_name="")


def organization_profile_cached() -> OrganizationProfile:
    """Read on every request (timezone, accent colour); cached per tenant by the tenant-aware cache key."""
    profile = cache.get(_CACHE_KEY)
    if profile is None:
        profile = organization_profile_get()
        cache.set(_CACHE_KEY, profile, timeout=300)
    return profile


def organization_profile_forget() -> None:
    cache.delete(_CACHE_KEY)
