"""The setup wizard's settings: checked as a whole, saved at once. Nothing half-saved, every refusal next to its
field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import LifecycleStage, Pipeline, PropertyDefinition, Stage
from integrations.exact.mapping import BUILT_IN, EXACT_FIELDS
from integrations.models import AccountType, ExactSettings, InvoiceMode, ReferenceField, SyncScope

OUR_FIELDS = {
    "company": (
        "name",
        "domain",
        "vat_number",
        "registration_number",
        "address_line1",
        "postal_code",
        "city",
        "country",
        "phone",
    ),
    "contact": ("first_name", "last_name", "email", "phone", "job_title"),
}


@dataclass
class SetupValues:
    invoices_enabled: bool = False
    opportunities_enabled: bool = False
    company_scope: str = SyncScope.ALL
    company_min_stage: str = ""
    contact_scope: str = SyncScope.ALL
    contact_min_stage: str = ""
    field_map: list[dict] = field(default_factory=list)
    account_type: str = AccountType.CUSTOMER
    vat_code: str = ""
    payment_condition: str = ""
    gl_account: str = ""
    labels: dict = field(default_factory=dict)
    reference_field: str = ReferenceField.YOUR_REF
    invoice_stages: list[dict] = field(default_factory=list)
    invoice_mode: str = InvoiceMode.CONCEPT
    default_unit: str = "pc"
    default_item_group: str = ""
    default_item_code: str = ""
    default_payment_condition: str = ""

    @classmethod
    def of(cls, row: ExactSettings) -> SetupValues:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


def exact_settings_get() -> ExactSettings:
    return ExactSettings.objects.filter(pk=1).first() or ExactSettings(pk=1)


def property_choices(object_type: str) -> list[str]:
    """Our fields and the custom properties (not archived) a mapping may read."""
    custom = PropertyDefinition.objects.filter(object_type=object_type, is_archived=False).values_list("key", flat=True)
    return [*OUR_FIELDS[object_type], *(f"properties.{key}" for key in custom)]


def setup_errors(values: SetupValues, *, options: dict | None = None) -> dict[str, list[str]]:
    """Every reason the settings cannot be saved, by field. `options` are the lists read live from Exact (VAT
    codes, payment conditions, GL accounts): a code must be one of them when they could be read."""
    errors: dict[str, list[str]] = {}

    def add(name, message):
        errors.setdefault(name, []).append(message)

    if values.invoices_enabled and values.opportunities_enabled:
        add(
            "opportunities_enabled",
            _(
                "Choose sales invoices or sales opportunities, not both: a won deal would reach Exact twice, once as "
                "an opportunity and once as an invoice, and Exact would count the revenue twice."
            ),
        )
    stages = set(LifecycleStage.objects.filter(is_active=True).values_list("key", flat=True))
    for prefix in ("company", "contact"):
        scope = getattr(values, f"{prefix}_scope")
        if scope not in SyncScope.values:
            add(f"{prefix}_scope", _("Choose which records sync."))
        elif scope == SyncScope.STAGE and getattr(values, f"{prefix}_min_stage") not in stages:
            add(f"{prefix}_min_stage", _("Choose a lifecycle stage."))
    seen = set()
    for row in values.field_map:
        obj, prop, exact = row.get("object"), row.get("property", ""), row.get("exact", "")
        if obj not in EXACT_FIELDS:
            add("field_map", _("Each mapping is for companies or contacts."))
            continue
        if prop not in property_choices(obj):
            add(
                "field_map",
                _("“%(property)s” is not a field or property of %(object)s records.")
                % {"property": prop, "object": obj},
            )
        if exact not in EXACT_FIELDS[obj]:
            add("field_map", _("“%(field)s” is not an Exact field we can fill.") % {"field": exact})
        if (obj, exact) in seen:
            add("field_map", _("The Exact field “%(field)s” is mapped twice.") % {"field": exact})
        seen.add((obj, exact))
    if values.account_type not in AccountType.values:
        add("account_type", _("Choose customer, prospect or suspect."))
    options = options or {}
    for name, key in (
        ("vat_code", "vat_codes"),
        ("payment_condition", "payment_conditions"),
        ("default_payment_condition", "payment_conditions"),
        ("gl_account", "gl_accounts"),
    ):
        code = getattr(values, name)
        if code and options.get(key) is not None and code not in {o["code"] for o in options[key]}:
            add(name, _("Exact does not have this code (any more). Choose one from the list."))
    if values.reference_field not in ReferenceField.values:
        add("reference_field", _("Choose the field that carries our invoice number."))
    if values.invoice_mode not in InvoiceMode.values:
        add("invoice_mode", _("Choose concept or processed."))
    pipelines_seen = set()
    for row in values.invoice_stages:
        pipeline_raw, stage_raw = str(row.get("pipeline", "")), str(row.get("stage", ""))
        if not (re.fullmatch(r"[0-9]{1,9}", pipeline_raw) and re.fullmatch(r"[0-9]{1,9}", stage_raw)):
            add("invoice_stages", _("Choose a pipeline and a stage on every row."))
            continue
        pipeline_id, stage_id = int(pipeline_raw), int(stage_raw)
        if not Stage.objects.filter(pk=stage_id, pipeline_id=pipeline_id).exists():
            add("invoice_stages", _("That stage is not in the chosen pipeline."))
        if pipeline_id in pipelines_seen:
            name = Pipeline.objects.filter(pk=pipeline_id).values_list("name", flat=True).first() or pipeline_id
            add(
                "invoice_stages",
                _("The pipeline “%(name)s” has two rows: keep one stage per pipeline.") % {"name": name},
            )
        pipelines_seen.add(pipeline_id)
    if values.invoice_stages and not values.invoices_enabled:
        add("invoice_stages", _("Turn on sales invoices to create invoices from deal stages."))
    if len(values.default_unit) > 20 or len(values.default_item_code) > 40 or len(values.default_item_group) > 40:
        add("default_item_code", _("Keep codes short (units up to 20, item codes and groups up to 40 characters)."))
    return errors


def exact_settings_save(*, values: SetupValues, options: dict | None = None) -> ExactSettings:
    errors = setup_errors(values, options=options)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        row, _created = ExactSettings.objects.select_for_update().get_or_create(pk=1)
        for name in SetupValues.__dataclass_fields__:
            setattr(row, name, getattr(values, name))
        row.invoice_stages = [{"pipeline": int(r["pipeline"]), "stage": int(r["stage"])} for r in values.invoice_stages]
        row.updated_at = timezone.now()
        row.save()
    return row


__all__ = ["BUILT_IN", "SetupValues", "exact_settings_get", "exact_settings_save", "setup_errors"]
