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

    def clean_password(self):
        password = self.cleaned_data["password"]
        try:
            password_validation.validate_password(password)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from exc
        return password
