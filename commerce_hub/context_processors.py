from django.conf import settings


def shell(request):
    """What the app shell needs on every page: the tenant's name and branding, and the languages."""
    tenant = getattr(request, "tenant", None)
    is_tenant = tenant is not None and tenant.schema_name != "public"
    context = {"languages": settings.LANGUAGES, "is_tenant_site": is_tenant}
    if is_tenant:
        from commerce_hub.organization.selectors import organization_profile_cached

        context["organization"] = organization_profile_cached()
        context["tenant_name"] = tenant.name
    return context
