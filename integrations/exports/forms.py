from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.models import ExportSettings

MAX_DAYS = 3 * 366 + 1  # a period of up to three years: what an accountant closes, and an export ends in minutes


class PeriodForm(forms.Form):
    WHAT = [
        ("invoices", _("Invoices (CSV)")),
        ("credit_notes", _("Credit notes (CSV)")),
        ("payments", _("Payments (CSV)")),
        ("all", _("Invoices, credit notes and payments (three CSV files in a zip)")),
        ("ubl", _("E-invoices: UBL XML of every invoice and credit note (zip)")),
    ]

    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To (included)"), widget=forms.DateInput(attrs={"type": "date"}))
    what = forms.ChoiceField(label=_("Export"), choices=WHAT, initial="invoices", widget=forms.RadioSelect)

    @staticmethod
    def initial_period() -> dict:
        """Last month: what is exported most."""
        first_of_month = timezone.localdate().replace(day=1)
        end = first_of_month - timedelta(days=1)
        return {"start": end.replace(day=1), "end": end, "what": "invoices"}

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if isinstance(start, date) and isinstance(end, date):
            if end < start:
                self.add_error("end", _("The end date is before the start date."))
            elif (end - start).days > MAX_DAYS:
                self.add_error("end", _("Export at most three years at a time."))
        return data


class ExportSettingsForm(forms.ModelForm):
    class Meta:
        model = ExportSettings
        fields = ["embed_ubl_in_pdf", "seller_endpoint_scheme", "seller_endpoint_id", "buyer_endpoint_source"]
        help_texts = {
            "seller_endpoint_id": _(
                "Leave both empty to use your chamber of commerce number (0106, or 0192 in Norway) from the company "
                "profile."
            ),
        }

    def clean(self):
        data = super().clean()
        scheme, value = data.get("seller_endpoint_scheme"), (data.get("seller_endpoint_id") or "").strip()
        if bool(scheme) != bool(value):
            self.add_error("seller_endpoint_id", _("Give both the scheme and the id, or neither."))
        data["seller_endpoint_id"] = value
        return data
