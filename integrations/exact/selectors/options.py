"""What the wizard offers, read live from Exact (vat/VATCodes, cashflow/PaymentConditions, financial/GLAccounts),
and the settings read back in plain words."""

from __future__ import annotations

from django.utils.translation import gettext as _

from crm.models import LifecycleStage, Pipeline, Stage
from integrations.exact.client import ExactClient, ExactRefused, ExactUnavailable, RateLimited
from integrations.exact.mapping import EXACT_FIELDS
from integrations.exact.tokens import NotConnected
from integrations.models import AccountType, ExactSettings, InvoiceMode, ReferenceField, SyncScope


def exact_options(*, client: ExactClient | None = None) -> dict | None:
    """None when Exact cannot be asked now (not connected, unreachable, rate limited): the wizard says so."""
    client = client or ExactClient()
    try:
        vat = client.collection("vat/VATCodes", params={"$select": "Code,Description,Percentage"})
        conditions = client.collection("cashflow/PaymentConditions", params={"$select": "Code,Description"})
        gl = client.collection("financial/GLAccounts", params={"$select": "ID,Code,Description"})
    except (NotConnected, ExactUnavailable, ExactRefused, RateLimited):
        return None
    return {
        "vat_codes": [
            {"code": str(r["Code"]).strip(), "label": f"{str(r['Code']).strip()} · {r.get('Description', '')}"}
            for r in vat
        ],
        "payment_conditions": [
            {"code": str(r["Code"]).strip(), "label": f"{str(r['Code']).strip()} · {r.get('Description', '')}"}
            for r in conditions
        ],
        # Accounts take the G/L account by its id.
        "gl_accounts": [{"code": r["ID"], "label": f"{r.get('Code', '')} · {r.get('Description', '')}"} for r in gl],
    }


def _scope_words(settings: ExactSettings, prefix: str, stages: dict) -> str:
    scope = getattr(settings, f"{prefix}_scope")
    if scope == SyncScope.ALL:
        return _("all of them")
    if scope == SyncScope.NONE:
        return _("none")
    stage = stages.get(getattr(settings, f"{prefix}_min_stage"), getattr(settings, f"{prefix}_min_stage"))
    return _("those at or past the lifecycle stage “%(stage)s”") % {"stage": stage}


def settings_summary(settings: ExactSettings) -> list[str]:
    """Every setting, read back as a sentence."""
    stages = dict(LifecycleStage.objects.values_list("key", "label"))
    labels = settings.labels or {}
    lines = [_("Companies and contacts always sync to Exact's accounts and contacts.")]
    if settings.invoices_enabled:
        lines.append(_("Sales invoices: on. Sales opportunities: off."))
    elif settings.opportunities_enabled:
        lines.append(_("Sales opportunities: on. Sales invoices: off."))
    else:
        lines.append(_("Sales invoices and sales opportunities: off."))
    lines.append(_("Companies that sync: %(which)s.") % {"which": _scope_words(settings, "company", stages)})
    lines.append(_("Contacts that sync: %(which)s.") % {"which": _scope_words(settings, "contact", stages)})
    for row in settings.field_map or []:
        exact_label = EXACT_FIELDS.get(row.get("object"), {}).get(row.get("exact"), row.get("exact"))
        lines.append(
            _("The %(object)s field “%(property)s” fills Exact's “%(field)s”.")
            % {"object": row.get("object"), "property": row.get("property"), "field": exact_label}
        )
    lines.append(
        _("New accounts in Exact are created as %(type)s.") % {"type": AccountType(settings.account_type).label.lower()}
    )
    for name, text in (
        ("vat_code", _("Accounts get the VAT code %(value)s.")),
        ("payment_condition", _("Accounts get the payment condition %(value)s.")),
        ("gl_account", _("Accounts get the revenue G/L account %(value)s.")),
    ):
        value = getattr(settings, name)
        if value:
            lines.append(text % {"value": labels.get(name) or value})
    if settings.invoices_enabled:
        lines.append(
            _("Our invoice number goes into Exact's %(field)s.")
            % {"field": ReferenceField(settings.reference_field).label}
        )
        pipelines = dict(Pipeline.objects.values_list("id", "name"))
        stage_names = dict(Stage.all_objects.values_list("id", "name"))
        for row in settings.invoice_stages or []:
            lines.append(
                _("A deal in the pipeline “%(pipeline)s” that reaches “%(stage)s” gets a sales invoice in Exact.")
                % {
                    "pipeline": pipelines.get(int(row["pipeline"]), row["pipeline"]),
                    "stage": stage_names.get(int(row["stage"]), row["stage"]),
                }
            )
        if not settings.invoice_stages:
            lines.append(_("No deal stage creates invoices; use “Create invoice in Exact” on a deal."))
        lines.append(
            _("Exact receives each invoice as a %(mode)s.") % {"mode": InvoiceMode(settings.invoice_mode).label.lower()}
        )
        defaults = [
            (_("unit"), settings.default_unit),
            (_("item group"), settings.default_item_group),
            (_("item code"), settings.default_item_code),
            (_("payment condition"), labels.get("default_payment_condition") or settings.default_payment_condition),
        ]
        for label, value in defaults:
            if value:
                lines.append(_("Invoice lines default to the %(what)s %(value)s.") % {"what": label, "value": value})
    return lines
