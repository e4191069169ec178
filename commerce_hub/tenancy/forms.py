import time

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.core import signing
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
    # The invisible challenge: a field people never see (bots fill every field) and the time the form was shown,
    # signed, so a form sent back faster than a person can fill it in is refused.
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    form_started = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["form_started"] = form_started_token()

    def clean_subdomain(self):
        return subdomain_validate(self.cleaned_data["subdomain"])

    def clean(self):
        data = super().clean()
        if data.get("website"):
            raise ValidationError(_("Your workspace could not be created. Reload the page and try again."), code="bot")
        started = form_started_read(data.get("form_started") or "")
        if started is None or time.time() - started < settings.SIGNUP_MIN_FILL_SECONDS:
            # A fresh start time, so sending the form again (after a moment) works.
            self.data = self.data.copy()
            self.data["form_started"] = form_started_token()
            raise ValidationError(
                _("That was faster than we expected. Check the form and send it again."), code="too_fast"
            )
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


_STARTED_SALT = "commerce_hub.tenancy.signup-started"


def form_started_token(at: float | None = None) -> str:
    return signing.dumps(time.time() if at is None else at, salt=_STARTED_SALT)


def form_started_read(token: str) -> float | None:
    try:
        return float(signing.loads(token, salt=_STARTED_SALT, max_age=24 * 3600))
    except (signing.BadSignature, TypeError, ValueError):
        return None
