from csp.decorators import csp_update
from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from commerce_hub.accounts.ratelimit import ratelimit_hit, too_many_requests
from commerce_hub.forms import form_add_errors
from commerce_hub.request_context import client_ip
from commerce_hub.tenancy.forms import SignupForm
from commerce_hub.tenancy.services import tenant_signup


def landing(request):
    return render(request, "public/landing.html")


# The signup form's answer redirects to the new workspace's own subdomain, which form-action must allow.
@csp_update({"form-action": [f"{settings.SITE_SCHEME}://*.{settings.BASE_DOMAIN}:*"]})
@require_http_methods(["GET", "POST"])
def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST":
        # Per client address and per email: a handful of workspaces an hour is plenty for a person.
        verdict = ratelimit_hit(
            name="signup", keys=[client_ip(request), f"email:{request.POST.get('email', '')[:254].strip().lower()}"]
        )
        if not verdict.allowed:
            return too_many_requests(request, name="signup", retry_after=verdict.retry_after)
    if request.method == "POST" and form.is_valid():
        try:
            fields = ("company_name", "subdomain", "admin_name", "email", "password")
            result = tenant_signup(**{name: form.cleaned_data[name] for name in fields}, verify_email=True)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return render(request, "public/signup_sent.html", {"email": result.email, "domain": result.domain})
    return render(request, "public/signup.html", {"form": form}, status=400 if form.errors else 200)
