from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from commerce_hub.accounts.models import Role
from commerce_hub.mail import email_queue


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True})
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordResetForm(DjangoPasswordResetForm):
    def get_users(self, email):
        from commerce_hub.accounts.models import User

        return User.objects.filter(email__iexact=email, is_active=True)

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        # Rendered now, sent by the email worker after the request; the user object never enters the queue.
        email_queue(to=to_email, name="password-reset", context=context, language=context["user"].language)


class InviteForm(forms.Form):
    full_name = forms.CharField(label=_("Name"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.SALES)


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(label=_("Your name"), max_length=150)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        elif data.get("password"):
            try:
                password_validation.validate_password(data["password"])
            except ValidationError as exc:
                self.add_error("password", exc)
        return data


class OtpTokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=16,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_token(self):
        value = "".join(self.cleaned_data["token"].split()).lower()
        if not value.isascii() or not value.isalnum():
            raise ValidationError(_("Enter the code as digits and letters only."), code="invalid")
        return value


class SecurityPolicyForm(forms.Form):
    idle_timeout_minutes = forms.IntegerField(
        label=_("Sign out after inactivity (minutes)"),
        min_value=5,
        max_value=7 * 24 * 60,
        help_text=_("Between 5 minutes and 7 days. The default is 720 minutes (12 hours)."),
    )
    require_two_factor_for_admins_and_finance = forms.BooleanField(
        label=_("Require two-factor authentication for admins and finance"), required=False
    )
