from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from commerce_hub.access import require_perm
from commerce_hub.dashboard import widgets_for
from commerce_hub.registry import placeholder_pages


@require_perm()
def home(request):
    return render(request, "home.html", {"widgets": widgets_for(request), "active_nav": "home"})


def module_index(request, module: str):
    """The empty state of a module an app registered before its pages exist (commerce_hub.registry)."""
    page = placeholder_pages()[module]

    @require_perm(page.permission)
    def view(request):
        return render(
            request,
            "module_empty.html",
            {
                "title": page.title,
                "empty_title": page.empty_title,
                "empty_text": page.empty_text,
                "active_nav": module,
            },
        )

    return view(request)


@require_POST
def language_set(request):
    """Switch the interface language: saved on the user when signed in, in a cookie otherwise."""
    language = request.POST.get("language", "")
    next_url = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/"
    response = HttpResponseRedirect(next_url)
    if language in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            from commerce_hub.accounts.services.users import user_set_language

            user_set_language(user=request.user, language=language)
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def _error(request, template: str, status: int, context: dict | None = None):
    """An error page; for htmx, only its message (static/js/app.js shows it above the page with a reload link)."""
    if request.headers.get("HX-Request"):
        template = template.replace("errors/", "errors/_htmx_", 1)
    return render(request, template, context or {}, status=status)


def error_404(request, exception=None):
    return _error(request, "errors/404.html", 404)


def error_403(request, exception=None):
    """Why: a document that can no longer change (the reason the code gave), or the permissions the role lacks,
    named, with the tenant's admins, who can grant them (by giving another role)."""
    from commerce_hub.registry import registered_permissions

    labels = {f"accounts.{spec.codename}": spec.label for spec in registered_permissions()}
    missing = [labels.get(perm, perm) for perm in getattr(exception, "perms", [])]
    reason = "" if missing or exception is None else str(exception)
    admins = []
    if getattr(request, "tenant", None) is not None and request.tenant.schema_name != "public":
        from commerce_hub.accounts.models import Role, User

        admins = list(
            User.objects.filter(role=Role.ADMIN, is_active=True)
            .order_by("full_name", "email")
            .values_list("full_name", flat=True)[:5]
        )
    return _error(request, "errors/403.html", 403, {"missing": missing, "reason": reason, "admins": admins})


def error_500(request):
    # No context processors: the database or cache may be what failed.
    from django.http import HttpResponseServerError
    from django.template import loader

    return HttpResponseServerError(loader.get_template("errors/500.html").render())


def csrf_failure(request, reason=""):
    return render(request, "errors/403.html", {"csrf_failed": True}, status=403)
