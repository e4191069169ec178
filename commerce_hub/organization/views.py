from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from commerce_hub.access import require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.organization.forms import BrandingForm, ProfileForm
from commerce_hub.organization.selectors import organization_profile_cached, organization_profile_get
from commerce_hub.organization.services import branding_update, organization_profile_update


@require_perm("accounts.manage_settings")
@require_http_methods(["GET", "POST"])
def profile(request):
    current = organization_profile_get()
    form = ProfileForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            organization_profile_update(actor=request.user, data=dict(form.cleaned_data))
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Company profile saved."))
            return redirect("organization:profile")
    return render(
        request,
        "organization/profile.html",
        {
            "form": form,
            "active_nav": "settings",
            "settings_tab": "profile",
        },
        status=400 if form.errors else 200,
    )


@require_perm("accounts.manage_settings")
@require_http_methods(["GET", "POST"])
def branding(request):
    current = organization_profile_get()
    form = BrandingForm(request.POST or None, request.FILES or None, initial={"accent_color": current.accent_color})
    if request.method == "POST" and form.is_valid():
        try:
            branding_update(
                actor=request.user,
                accent_color=form.cleaned_data["accent_color"],
                logo=form.cleaned_data["logo"],
                remove_logo=form.cleaned_data["remove_logo"],
            )
        except ValidationError as exc:
            form.add_error("logo", exc.messages)
        else:
            messages.success(request, _("Branding saved."))
            return redirect("organization:branding")
    return render(
        request,
        "organization/branding.html",
        {
            "form": form,
            "profile": current,
            "active_nav": "settings",
            "settings_tab": "branding",
        },
        status=400 if form.errors else 200,
    )


@require_perm()
def logo(request):
    """The tenant's logo, served from its own storage folder (the path never comes from the request)."""
    current = organization_profile_cached()
    if not current.logo:
        raise Http404
    try:
        handle = current.logo.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(handle)
    response["Cache-Control"] = "private, max-age=300"
    return response
