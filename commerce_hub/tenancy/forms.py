from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from commerce_hub.tenancy.services import SUBDOMAIN_MAX_LENGTH, subdomain_validate


class SignupForm(forms.Form):
    company_name = forms.CharField(label=_("Company name"), max_length=200)
    subdomain = forms.CharField(
        label=_("Subdomain"),
        # One more than allowed, so a too-long value reaches our own clear message instead of the browser cap.
        max_length=SUBDOMAIN_MAX_LENGTH + 20,
        help_text=_("Lowercase letters, digits and hyphens. Your workspace address."),
    )
    admin_name = forms.CharField(label=_("Your name"), max_length=150)
    email = forms.EmailField(label=_("Work email"))
    password = forms.CharField(label=_("Password"), widget=forms.PasswordInput, strip=False)

    def clean_subdomain(self):
        return subdomain_validate(self.cleaned_data["subdomain"])

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password:
            # Checked against the future admin too: a password close to their name or email is refused here.
            from commerce_hub.accounts.models import User

            provisional = User(email=data.get("email") or "", full_name=data.get("admin_name") or "")
            try:
                password_validation.validate_password(password, provisional)
            except ValidationError as exc:
                self.add_error("password", exc.messages)
        return data
