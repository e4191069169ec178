from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from commerce_hub.forms import form_add_errors
from commerce_hub.tenancy.forms import SignupForm
from commerce_hub.tenancy.services import tenant_signup


def landing(request):
    return render(request, "public/landing.html")


@require_http_methods(["GET", "POST"])
def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = tenant_signup(**form.cleaned_data)
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return redirect(result.welcome_url)
    return render(request, "public/signup.html", {"form": form}, status=400 if form.errors else 200)
