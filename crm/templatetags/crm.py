from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from crm.fields import FieldSpec, record_value
from crm.forms import field_display
from crm.selectors import lifecycle_labels

register = template.Library()


@register.filter
def lifecycle(key: str) -> str:
    """The lifecycle stage's label, in the reader's language while it keeps its default English name."""
    label = lifecycle_labels().get(key)
    return gettext(label) if label else (key or "")


def display_value(record, spec: FieldSpec) -> str:
    """A field's value as text for a person reading an index table, in their language."""
    return field_display(record, spec, short=True)[0]


def plain_value(record, spec: FieldSpec) -> str:
    """A field's value for CSV: stable, machine-readable forms (ISO dates, '.' decimals, keys and emails)."""
    value = record_value(record, spec)
    if value in (None, "", {}):
        return ""
    t = spec.type
    if t == "owner":
        return record.owner.email if record.owner_id else ""
    if t == "company":
        return record.company.name if record.company_id else ""
    if t == "stage":
        return record.stage.name
    if t == "money":
        return str(value.amount)
    if t in ("date", "datetime"):
        return value.isoformat()
    if t == "p_money":
        return f"{value['amount']} {value['currency']}"
    if t == "p_boolean":
        return "yes" if value else "no"
    return str(value)


_LINKS = {"company": "crm:company_detail", "contact": "crm:contact_detail", "deal": "crm:deal_detail"}


@register.simple_tag
def cell(record, spec: FieldSpec, object_type: str):
    """One index table cell; the record's name links to its page, a company cell to the company."""
    text = display_value(record, spec)
    if spec.key in ("name", "first_name") or (
        object_type == "contact" and spec.key == "last_name" and not record.first_name
    ):
        return format_html('<a href="{}">{}</a>', reverse(_LINKS[object_type], args=[record.pk]), text or "—")
    if spec.type == "company" and record.company_id:
        return format_html('<a href="{}">{}</a>', reverse("crm:company_detail", args=[record.company_id]), text)
    if spec.type == "stage":
        return format_html('<span class="badge stage-{}">{}</span>', record.stage.kind, text)
    return text or "—"


@register.filter
def is_numeric_column(spec: FieldSpec) -> bool:
    return spec.type in ("money", "p_number", "p_money")
