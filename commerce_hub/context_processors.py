from django.conf import settings

from commerce_hub.registry import nav_for, settings_tabs_for


def shell(request):
    """What the app shell needs on every page: the tenant's name and branding, the languages, and the menu the apps
    registered (commerce_hub.registry)."""
    tenant = getattr(request, "tenant", None)
    is_tenant = tenant is not None and tenant.schema_name != "public"
    context = {"languages": settings.LANGUAGES, "is_tenant_site": is_tenant}
    if is_tenant:
        from commerce_hub.organization.selectors import organization_profile_cached

        profile = getattr(request, "organization_profile", None)  # UserPreferencesMiddleware read it
        context["organization"] = profile if profile is not None else organization_profile_cached()
        context["tenant_name"] = tenant.name
        # A callable: the template calls it only on pages that draw the menu, so other pages never load the user.
        context["nav_groups"] = lambda: _for_user(request, nav_for)
        context["settings_tabs"] = lambda: _for_user(request, settings_tabs_for)
    return context


def _for_user(request, build) -> list:
    user = getattr(request, "user", None)
    return build(user) if user is not None and user.is_authenticated else []
