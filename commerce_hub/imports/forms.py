from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from commerce_hub.forms import form_add_errors
from commerce_hub.imports.mapping import importable_specs


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, separated by commas or semicolons, with the column names in the first row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv,.txt"}),
    )


class ImportMappingForm(forms.Form):
    """One select per CSV column: the field it fills, or nothing."""

    def __init__(self, data=None, *, headers: list[str], specs: list, initial_mapping: dict[str, str]):
        super().__init__(data)
        choices = [("", _("Don't import"))] + [
            (s.key, f"{s.label} *" if s.required else s.label) for s in importable_specs(specs)
        ]
        self.columns: dict[str, str] = {}  # form field name -> CSV header
        for index, header in enumerate(headers):
            if not header:
                continue
            name = f"col_{index}"
            self.columns[name] = header
            self.fields[name] = forms.ChoiceField(
                label=header, choices=choices, required=False, initial=initial_mapping.get(header, "")
            )

    def field_for_header(self, header: str) -> str | None:
        return next((name for name, h in self.columns.items() if h == header), None)

    def add_service_errors(self, exc: ValidationError) -> None:
        """A mapping's errors next to the select of the column they are about; the mapping's own on top."""
        form_add_errors(self, exc, field_map=self.field_for_header)

    def mapping(self) -> dict[str, str]:
        """The mapping as chosen; on an unbound form, the initial one."""
        if not self.is_bound:
            return {header: self.fields[name].initial for name, header in self.columns.items()}
        valid = {key for key, _label in self.fields[next(iter(self.fields))].choices} if self.fields else set()
        result = {}
        for name, header in self.columns.items():
            value = self.data.get(name, "")
            result[header] = value if value in valid else ""
        return result
