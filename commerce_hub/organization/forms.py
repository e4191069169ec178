from django import forms
from django.utils.translation import gettext_lazy as _

from commerce_hub.organization.models import OrganizationProfile


class ProfileForm(forms.ModelForm):
    class Meta:
        model = OrganizationProfile
        fields = [
            "legal_name",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "country",
            "vat_number",
            "registration_number",
            "default_currency",
            "timezone",
            "language",
        ]


class BrandingForm(forms.Form):
    accent_color = forms.RegexField(
        label=_("Accent colour"),
        regex=r"^#[0-9a-fA-F]{6}$",
        widget=forms.TextInput(attrs={"type": "color"}),
        error_messages={"invalid": _("Use a colour like #0f766e.")},
    )
    logo = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG, JPEG or WebP, at most 1 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    remove_logo = forms.BooleanField(label=_("Remove the current logo"), required=False)
