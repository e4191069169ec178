"""The payment schedule editor: one row per installment (name, a percentage of the total or an amount, due date).
The form only reads what was typed (numbers in the reader's notation); billing.services.quote_schedule decides what
is allowed and its messages land next to the row's fields."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.forms import formset_factory
from django.forms.utils import ErrorDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.forms.fields import LocalizedDecimalField
from billing.services.quote_schedule import MAX_INSTALLMENTS, MAX_NAME, InstallmentInput

_L = gettext_lazy
PREFIX = "installments"
PERCENT, AMOUNT = "percent", "amount"
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# "installments[2].percent" from the service -> row 2, field "value".
_ERROR_KEY = re.compile(r"^installments\[(\d+)\]\.(\w+)$")
_FIELDS = {"name": "name", "percent": "value", "amount": "value", "due_date": "due_date"}


class InstallmentForm(forms.Form):
    name = forms.CharField(label=_L("Name"), required=False, max_length=MAX_NAME)
    mode = forms.ChoiceField(
        label=_L("Of the total"),
        choices=[(PERCENT, _L("Percentage")), (AMOUNT, _L("Amount"))],
        initial=PERCENT,
    )
    value = LocalizedDecimalField(label=_L("Percentage or amount"), required=False)
    due_date = forms.DateField(label=_L("Due date"), required=False, widget=_DATE)

    def __init__(self, *args, row: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.row = row
        self.fields["name"].widget.attrs["placeholder"] = _("Deposit") if row == 1 else _("Installment")
        if row == 1:
            self.fields["due_date"].disabled = True
            self.fields["due_date"].help_text = _("Paid at checkout")

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", None) or {}
        return not (data.get("name") or "").strip() and data.get("value") is None and data.get("due_date") is None

    def installment(self) -> InstallmentInput:
        data = self.cleaned_data
        value = data.get("value")
        percent = value if data.get("mode") == PERCENT else None
        amount = value if data.get("mode") == AMOUNT else None
        return InstallmentInput(
            name=data.get("name") or "", percent=percent, amount=amount, due_date=data.get("due_date")
        )


class _ScheduleFormSet(forms.BaseFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "row": (index or 0) + 1}

    def rows(self) -> list[InstallmentForm]:
        """The rows that hold something and are not removed, in order."""
        return [f for f in self.forms if f.cleaned_data and not f.cleaned_data.get("DELETE") and not f.is_blank()]

    def installments(self) -> list[InstallmentInput]:
        return [form.installment() for form in self.rows()]

    def quiet(self) -> None:
        """Show the values as typed without any error (the rep asked for another row, not to save)."""
        self._errors = []
        self._non_form_errors = self.error_class()
        for form in self.forms:
            form._errors = ErrorDict()

    def apply_errors(self, exc: ValidationError) -> None:
        """Put the service's errors ("installments[i].<field>", "__all__") next to the rows and fields they name."""
        self._non_form_errors = self.error_class(self.non_form_errors())
        rows = self.rows()
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        for key, messages in errors.items():
            match = _ERROR_KEY.match(key)
            if match and int(match.group(1)) < len(rows):
                form = rows[int(match.group(1))]
                for message in messages:
                    form.add_error(_FIELDS.get(match.group(2)), message)
            else:
                self._non_form_errors.extend(messages)


ScheduleFormSet = formset_factory(
    InstallmentForm,
    formset=_ScheduleFormSet,
    extra=0,
    can_delete=True,
    max_num=MAX_INSTALLMENTS,
    validate_max=True,
    absolute_max=MAX_INSTALLMENTS + 1,
)


def schedule_formset(data=None, *, installments=(), add_row: bool = False) -> _ScheduleFormSet:
    """The editor bound to a post, or filled with the stored installments (two empty rows without any); `add_row`:
    the post with one more empty row, nothing checked."""
    if data is not None:
        if add_row:
            data = data.copy()
            key = f"{PREFIX}-TOTAL_FORMS"
            try:
                count = int(data.get(key, "0"))
            except ValueError:
                count = 0
            data[key] = str(min(max(count, 0) + 1, MAX_INSTALLMENTS))
            formset = ScheduleFormSet(data, prefix=PREFIX)
            formset.is_valid()
            formset.quiet()
            return formset
        return ScheduleFormSet(data, prefix=PREFIX)
    initial = [
        {
            "name": i.name,
            "mode": PERCENT if i.percent is not None else AMOUNT,
            "value": i.percent if i.percent is not None else i.amount,
            "due_date": i.due_date,
        }
        for i in installments
    ]
    if not initial:
        initial = [{"name": _("Deposit"), "mode": PERCENT}, {"name": _("Balance"), "mode": PERCENT}]
    return ScheduleFormSet(initial=initial, prefix=PREFIX)
