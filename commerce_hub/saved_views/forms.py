from django import forms
from django.utils.translation import gettext_lazy as _


class SaveViewForm(forms.Form):
    name = forms.CharField(label=_("View name"), max_length=80)
    shared = forms.BooleanField(label=_("Share with the team"), required=False)
