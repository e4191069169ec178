"""The setup wizard: modules, which records sync, field mapping, account defaults and invoices, on one page of
sections; rows of the mapping and of the invoice stages are added and removed by posting the page back (no script
needed), and nothing is saved until every section is valid."""

from __future__ import annotations

import re

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from commerce_hub.access import require_perm
from crm.models import LifecycleStage, Pipeline, Stage
from integrations.exact.mapping import EXACT_FIELDS
from integrations.exact.selectors.options import exact_options, settings_summary
from integrations.exact.services.setup import (
    SetupValues,
    exact_settings_get,
    exact_settings_save,
    property_choices,
    setup_errors,
)
from integrations.exact.views.connection import PERM, connection_get, ctx
from integrations.models import AccountType, ConnectionState, InvoiceMode, ReferenceField, SyncScope


def _rows(post, prefix: str, names: tuple[str, ...]) -> list[dict]:
    raw = str(post.get(f"{prefix}-count", "0"))
    count = min(int(raw), 50) if re.fullmatch(r"[0-9]{1,3}", raw) else 0
    rows = []
    for i in range(count):
        row = {name: post.get(f"{prefix}-{i}-{name}", "").strip() for name in names}
        if post.get(f"{prefix}-{i}-remove") or not any(row.values()):
            continue
        rows.append(row)
    return rows


class _Clean:
    """The posted values without NUL characters (Postgres refuses them in text) and at a sane length."""

    def __init__(self, post):
        self.post = post

    def get(self, name, default=""):
        return str(self.post.get(name, default)).replace("\x00", "")[:200]

    def __iter__(self):
        return iter(self.post)


def values_from_post(post, options: dict | None) -> SetupValues:
    post = _Clean(post)
    labels = {}
    for name, key in (
        ("vat_code", "vat_codes"),
        ("payment_condition", "payment_conditions"),
        ("gl_account", "gl_accounts"),
        ("default_payment_condition", "payment_conditions"),
    ):
        code = post.get(name, "").strip()
        for option in (options or {}).get(key) or []:
            if option["code"] == code:
                labels[name] = option["label"]
    return SetupValues(
        invoices_enabled=post.get("invoices_enabled") == "on",
        opportunities_enabled=post.get("opportunities_enabled") == "on",
        company_scope=post.get("company_scope", ""),
        company_min_stage=post.get("company_min_stage", "").strip(),
        contact_scope=post.get("contact_scope", ""),
        contact_min_stage=post.get("contact_min_stage", "").strip(),
        field_map=_rows(post, "fm", ("object", "property", "exact")),
        account_type=post.get("account_type", ""),
        vat_code=post.get("vat_code", "").strip(),
        payment_condition=post.get("payment_condition", "").strip(),
        gl_account=post.get("gl_account", "").strip(),
        labels=labels,
        reference_field=post.get("reference_field", ""),
        invoice_stages=_rows(post, "st", ("pipeline", "stage")),
        invoice_mode=post.get("invoice_mode", ""),
        default_unit=post.get("default_unit", "").strip(),
        default_item_group=post.get("default_item_group", "").strip(),
        default_item_code=post.get("default_item_code", "").strip(),
        default_payment_condition=post.get("default_payment_condition", "").strip(),
    )


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def exact_wizard(request):
    connected = connection_get().state == ConnectionState.CONNECTED
    options = exact_options() if connected else None
    errors: dict = {}
    if request.method == "POST":
        values = values_from_post(request.POST, options)
        action = request.POST.get("action", "save")
        if action == "add_mapping":
            values.field_map.append({"object": "company", "property": "", "exact": ""})
        elif action == "add_stage":
            values.invoice_stages.append({"pipeline": "", "stage": ""})
        elif any(k.endswith("-remove") for k in request.POST):
            pass  # a row was removed: show the page again
        else:
            try:
                exact_settings_save(values=values, options=options)
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                messages.success(request, _("Exact Online settings saved."))
                return redirect("exact:settings")
        if not errors and action == "check":
            errors = setup_errors(values, options=options)
    else:
        values = SetupValues.of(exact_settings_get())
    return render(
        request,
        "integrations/exact/wizard.html",
        ctx(
            values=values,
            errors=errors,
            options=options,
            connected=connected,
            scopes=SyncScope.choices,
            stages=LifecycleStage.objects.filter(is_active=True),
            account_types=AccountType.choices,
            reference_fields=ReferenceField.choices,
            invoice_modes=InvoiceMode.choices,
            pipelines=Pipeline.objects.all(),
            pipeline_stages=Stage.objects.select_related("pipeline"),
            exact_fields=EXACT_FIELDS,
            properties={"company": property_choices("company"), "contact": property_choices("contact")},
            summary=settings_summary(exact_settings_get()),
        ),
        status=400 if errors else 200,
    )
