"""Forms of the record pages, built from the field specs in crm.fields, and how each value reads on the page.

A record form only carries the user's text: crm.fields.parse_value, inside the record services, is the one place
that validates and converts it, so the create page, inline edit, import and bulk edit accept exactly the same input.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from commerce_hub.accounts.models import User
from commerce_hub.forms import form_add_errors
from commerce_hub.money import money_bound_text, money_format, money_in_bounds, number_format, quantize
from commerce_hub.organization.models import COUNTRY_CHOICES, CURRENCY_CHOICES
from crm.fields import FieldSpec, record_value
from crm.models import Company, LifecycleStage, Pipeline, Stage
from crm.selectors import lifecycle_labels

# Up to this many companies a company field is a select; beyond it, a text box with suggestions as you type
# (parse_value accepts a company's name or domain).
COMPANY_SELECT_LIMIT = 200
COMPANY_DATALIST_ID = "company-options"

_CHOICE_TYPES = {"country", "language", "currency", "lifecycle", "owner", "stage", "company", "p_choice", "p_boolean"}


def field_name(spec: FieldSpec) -> str:
    """The form field's name: custom property keys "p:tier" become "p__tier" (a colon is awkward in ids)."""
    return spec.key.replace(":", "__")


def stage_choices(record: Model | None) -> list[tuple[str, str]]:
    if record is not None and getattr(record, "pipeline_id", None):
        stages = Stage.objects.filter(pipeline_id=record.pipeline_id)
    else:
        # Reading a form never creates anything: with no pipeline the choice is simply empty.
        pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()
        stages = pipeline.stages.all() if pipeline else Stage.objects.none()
    return [(str(s.pk), s.name) for s in stages.order_by("position", "id")]


def _choices(spec: FieldSpec, record: Model | None, companies: list | None) -> list[tuple[str, str]] | None:
    kind = spec.type
    if kind == "country":
        options = [(code, str(label)) for code, label in COUNTRY_CHOICES]
    elif kind == "language":
        options = [(code, str(label)) for code, label in settings.LANGUAGES]
    elif kind == "currency":
        options = list(CURRENCY_CHOICES)
    elif kind == "lifecycle":
        options = [(s.key, _(s.label)) for s in LifecycleStage.objects.filter(is_active=True)]
    elif kind == "owner":
        options = [(str(u.pk), str(u)) for u in User.objects.filter(is_active=True).order_by("full_name", "id")]
    elif kind == "stage":
        options = stage_choices(record)
    elif kind == "company" and companies is not None:
        options = [(str(pk), name) for pk, name in companies]
    elif kind == "p_choice":
        options = [(str(value), str(label)) for value, label in spec.choices]
    elif kind == "p_boolean":
        options = [("yes", _("Yes")), ("no", _("No"))]
    else:
        return None
    if _may_be_empty(spec, record):
        options = [("", "—"), *options]
    return options


def _may_be_empty(spec: FieldSpec, record: Model | None) -> bool:
    """Whether "—" (no value) is a choice: not for fields every record has (country, language, lifecycle, stage),
    except a new company's currency, which empty means "the country's currency"."""
    if spec.required:
        return False
    if spec.type in ("owner", "company") or spec.is_custom:
        return True
    return spec.key == "currency" and record is None


def _small_company_list() -> list | None:
    companies = list(Company.objects.order_by("name", "id").values_list("pk", "name")[: COMPANY_SELECT_LIMIT + 1])
    return companies if len(companies) <= COMPANY_SELECT_LIMIT else None


def _widget(spec: FieldSpec, choices) -> forms.Widget:
    kind = spec.type
    if choices is not None:
        return forms.Select(choices=choices)
    if kind in ("date", "p_date"):
        return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    if kind == "email":
        return forms.EmailInput(attrs={"autocomplete": "off"})
    if kind == "phone":
        return forms.TextInput(attrs={"type": "tel"})
    if kind in ("money", "p_number"):
        return forms.TextInput(attrs={"inputmode": "decimal"})
    if kind == "p_money":
        return forms.TextInput(attrs={"placeholder": "1250.00 EUR"})
    if kind == "company":
        # Suggestions as you type: htmx fills the datalist from the company search.
        return forms.TextInput(
            attrs={
                "list": COMPANY_DATALIST_ID,
                "autocomplete": "off",
                "hx-get": reverse("crm:company_options"),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": f"#{COMPANY_DATALIST_ID}",
                "hx-swap": "innerHTML",
            }
        )
    if kind == "p_text":
        return forms.Textarea(attrs={"rows": 2})
    return forms.TextInput()


_HELP = {
    "company": gettext_lazy("Type the company's name or domain."),
    "p_money": gettext_lazy("An amount, optionally followed by a currency code."),
}


def initial_value(record: Model, spec: FieldSpec) -> str:
    """The stored value as the text a form field starts with (what parse_value reads back unchanged)."""
    value = record_value(record, spec)
    if value in (None, ""):
        return ""
    kind = spec.type
    if kind == "money":
        # Stored with 4 decimals: the box shows the currency's own, and more only where more were entered.
        amount = value.amount
        shown = quantize(amount, str(value.currency))
        return f"{shown if shown == amount else amount.normalize():f}"
    if kind == "date":
        return value.isoformat()
    if kind == "company" and _small_company_list() is None:
        # A name with a dot reads as a domain to parse_value, so the text box gets the domain or the id.
        return record.company.domain or str(record.company_id)
    if kind == "p_boolean":
        return "yes" if value else "no"
    if kind == "p_money" and isinstance(value, dict):
        return f"{value.get('amount', '')} {value.get('currency', '')}".strip()
    return str(value)


def record_form(
    specs: list[FieldSpec], *, data=None, initial=None, record: Model | None = None, prefix: str | None = None
) -> forms.Form:
    """A form with one text-valued field per spec (choices as selects, dates as date inputs)."""
    companies = _small_company_list() if any(s.type == "company" for s in specs) else None
    fields = {}
    for spec in specs:
        choices = _choices(spec, record, companies)
        fields[field_name(spec)] = forms.CharField(
            label=spec.label,
            required=spec.required,
            widget=_widget(spec, choices),
            help_text=_HELP.get(spec.type, "") if choices is None else "",
        )
    form_class = type("RecordForm", (forms.Form,), fields)
    form = form_class(data=data, initial=initial, prefix=prefix)
    form.specs = {field_name(s): s for s in specs}
    form.company_search = companies is None and any(s.type == "company" for s in specs)
    return form


def form_changes(form: forms.Form, *, skip_empty: bool) -> dict[str, str]:
    """{spec key: the user's text} from a valid record form; on create, empty fields keep the model's default."""
    changes = {}
    for name, spec in form.specs.items():
        raw = form.cleaned_data.get(name, "")
        if skip_empty and raw == "":
            continue
        changes[spec.key] = raw
    return changes


def form_apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put each message of a service's ValidationError next to its field (unknown keys go to the top); a custom
    property's key "p:size" names the form field "p__size"."""
    form_add_errors(form, exc, field_map=lambda key: key.replace(":", "__"))


# --- showing values ----------------------------------------------------------------------------------------------


@dataclass
class PropertyRow:
    spec: FieldSpec
    name: str  # form field name, also the DOM id suffix
    text: str  # formatted value, "" when empty
    href: str = ""
    badge: str = ""  # a CSS class when the value shows as a badge (deal stage)
    editable: bool = False


def field_display(record: Model, spec: FieldSpec, *, short: bool = False) -> tuple[str, str, str]:
    """(text, link, badge class) of one value in the reader's language: money, dates and labels formatted.
    `short` uses the compact date formats of index tables."""
    date_format, datetime_format = (
        ("SHORT_DATE_FORMAT", "SHORT_DATETIME_FORMAT") if short else ("DATE_FORMAT", "DATETIME_FORMAT")
    )
    value = record_value(record, spec)
    if value in (None, "", {}):
        return "", "", ""
    kind = spec.type
    try:
        if kind == "money":
            text = money_format(value.amount, str(value.currency))
            if not money_in_bounds(value.amount):
                # Stored before the bound was checked: still shown, flagged, so it can be corrected in place.
                text = _("%(amount)s (too large: amounts stay below %(bound)s; correct it)") % {
                    "amount": text,
                    "bound": money_bound_text(),
                }
            return text, "", ""
        if kind == "date":
            return formats.date_format(value, date_format), "", ""
        if kind == "datetime":
            return formats.date_format(timezone.localtime(value), datetime_format), "", ""
        if kind == "lifecycle":
            label = lifecycle_labels().get(value)
            return (_(label) if label else value), "", ""
        if kind == "owner":
            return str(record.owner), "", ""
        if kind == "company":
            return str(record.company), reverse("crm:company_detail", args=[record.company_id]), ""
        if kind == "stage":
            return _(record.stage.name), "", f"stage-{record.stage.kind}"
        if kind == "email":
            return value, f"mailto:{value}", ""
        if kind == "phone":
            return value, f"tel:{value.replace(' ', '')}", ""
        if kind == "domain":
            return value, f"https://{value}", ""
        if kind == "country":
            return str(dict(COUNTRY_CHOICES).get(value, value)), "", ""
        if kind == "language":
            return str(dict(settings.LANGUAGES).get(value, value)), "", ""
        if kind == "p_choice":
            return str(dict(spec.choices).get(value, value)), "", ""
        if kind == "p_boolean":
            return (_("Yes") if value else _("No")), "", ""
        if kind == "p_number":
            return number_format(Decimal(str(value))), "", ""
        if kind == "p_date":
            return formats.date_format(date.fromisoformat(value), date_format), "", ""
        if kind == "p_money":
            return money_format(Decimal(value["amount"]), value["currency"]), "", ""
    except (InvalidOperation, KeyError, TypeError, ValueError, AttributeError):
        # A value written before its property changed type: show it as stored rather than fail the page.
        return str(value), "", ""
    return str(value), "", ""


def property_row(record: Model, spec: FieldSpec, *, can_edit: bool) -> PropertyRow:
    text, href, badge = field_display(record, spec)
    return PropertyRow(
        spec=spec, name=field_name(spec), text=text, href=href, badge=badge, editable=can_edit and spec.editable
    )


# --- notes, tasks, associations -----------------------------------------------------------------------------------


class NoteForm(forms.Form):
    # Emptiness and length are checked by note_create, so the message is the same wherever a note comes from.
    body = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": gettext_lazy("Write a note…")}),
    )


class TaskForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("Task"), required=False, max_length=400)
    due_date = forms.DateField(
        label=gettext_lazy("Due date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    owner = forms.ModelChoiceField(
        label=gettext_lazy("Owner"), queryset=User.objects.none(), required=False, empty_label="—"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = User.objects.filter(is_active=True).order_by("full_name", "id")


class ContactPickForm(forms.Form):
    contact = forms.IntegerField(widget=forms.HiddenInput)
