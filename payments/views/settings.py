"""Settings → Payments: one page of small forms, each saved on its own (the hidden `section` says which)."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from commerce_hub.access import require_perm
from commerce_hub.forms import form_add_errors
from payments.forms.settings import (
    BuiltinProcessingForm,
    PayoutScheduleForm,
    ProcessorForm,
    ReceiptBrandingForm,
    SigningSecretForm,
    StripeKeysForm,
)
from payments.models import PaymentSettings, ProcessorKey, WebhookEvent, WebhookStatus
from payments.selectors.settings import payment_settings
from payments.services import payment_settings as services
from payments.services.stripe_connect import stripe_endpoint_get, stripe_webhook_url
from payments.webhooks import tasks as webhook_tasks
from payments.webhooks.processing import webhook_event_retry

PERM = "accounts.manage_settings"


def _ctx(**extra) -> dict:
    return {"active_nav": "settings", "settings_tab": "payments", **extra}


def _page_url(anchor: str) -> str:
    return f"{reverse('payments:settings')}#{anchor}"


def _forms(row: PaymentSettings, bound: str | None = None, data=None) -> dict:
    """Every form of the page; the one named `bound` reads the posted data, the others show what is saved."""

    def make(name, cls, initial=None, **kwargs):
        return cls(data if bound == name else None, prefix=name, initial=initial, **kwargs)

    ready = services.stripe_connected(row) and services.stripe_secret_key_readable(row)
    return {
        "processor": make("processor", ProcessorForm, {"processor": row.processor}, stripe_ready=ready),
        "stripe_keys": make("stripe_keys", StripeKeysForm, {"publishable_key": row.stripe_publishable_key}),
        "signing_secret": make("signing_secret", SigningSecretForm),
        "builtin": make("builtin", BuiltinProcessingForm, BuiltinProcessingForm.initial_for(row)),
        "payouts": make(
            "payouts",
            PayoutScheduleForm,
            {
                "payout_schedule": row.payout_schedule,
                "payout_weekday": row.payout_weekday,
                "payout_monthday": row.payout_monthday,
            },
        ),
        "branding": make(
            "branding",
            ReceiptBrandingForm,
            {"receipt_footer": row.receipt_footer, "receipt_accent_color": row.receipt_accent_color},
        ),
    }


def _signing_secrets(row: PaymentSettings) -> list[dict]:
    shown = []
    for entry in row.stripe_webhook_secrets_encrypted or []:
        if not isinstance(entry, dict):
            continue
        try:
            added = datetime.fromisoformat(entry.get("added_at", ""))
        except ValueError:
            added = None
        shown.append({"id": entry.get("id", ""), "hint": entry.get("hint", "…"), "added_at": added})
    return shown


def _render_page(request, row: PaymentSettings, forms: dict, *, status: int = 200):
    endpoint = stripe_endpoint_get()
    return render(
        request,
        "payments/settings/page.html",
        _ctx(
            settings=row,
            forms=forms,
            stripe_connected=services.stripe_connected(row),
            secret_key_readable=services.stripe_secret_key_readable(row),
            signing_secrets=_signing_secrets(row),
            webhook_url=stripe_webhook_url(endpoint) if endpoint else "",
            uses_stripe=row.processor == ProcessorKey.STRIPE,
            failed_events=list(
                WebhookEvent.objects.filter(status=WebhookStatus.FAILED)
                .order_by("-received_at", "-id")
                .only("id", "event_type", "event_id", "attempts", "error", "received_at", "processed_at")[:10]
            ),
        ),
        status=status,
    )


def _processor_message(row) -> str:
    return _("New payments go through %(processor)s.") % {"processor": row.get_processor_display()}


# Each section's form: the service that saves it, what the admin is told, and the part of the page to return to.
SAVERS = {
    "processor": (
        lambda actor, data: services.payment_processor_update(actor=actor, processor=data["processor"]),
        _processor_message,
        "processor",
    ),
    "stripe_keys": (
        lambda actor, data: services.stripe_keys_update(actor=actor, **data),
        lambda _row: _("Stripe keys saved. The secret key is stored encrypted and is not shown again."),
        "stripe",
    ),
    "signing_secret": (
        lambda actor, data: services.stripe_signing_secret_add(actor=actor, secret=data["secret"]),
        lambda _row: _("Signing secret added. Webhooks signed with it are accepted from now on."),
        "stripe",
    ),
    "builtin": (
        lambda actor, data: services.builtin_processing_update(actor=actor, **data),
        lambda _row: _("Fees and timing saved. They apply to payments made from now on."),
        "builtin",
    ),
    "payouts": (
        lambda actor, data: services.payout_schedule_update(actor=actor, **data),
        lambda _row: _("Payout schedule saved."),
        "payouts",
    ),
    "branding": (
        lambda actor, data: services.receipt_branding_update(actor=actor, **data),
        lambda _row: _("Receipt branding saved."),
        "branding",
    ),
}


def _save(request, section: str, form):
    """Save one section; None (the page shown again with the errors next to their fields) when refused."""
    save, message, anchor = SAVERS[section]
    try:
        row = save(request.user, form.cleaned_data)
    except ValidationError as exc:
        form_add_errors(form, exc)
        return None
    messages.success(request, message(row))
    return redirect(_page_url(anchor))


def _remove_signing_secret(request):
    try:
        services.stripe_signing_secret_remove(actor=request.user, secret_id=request.POST.get("secret_id", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Signing secret removed. Webhooks signed with it are refused from now on."))
    return redirect(_page_url("stripe"))


def _retry_webhook_event(request):
    event = WebhookEvent.objects.filter(pk=_int(request.POST.get("event_id"))).first()
    if event is not None and webhook_event_retry(event=event):
        webhook_tasks.process.delay_on_commit()
        messages.success(request, _("The event will be applied again in a moment."))
    else:
        messages.error(request, _("That event is no longer waiting to be tried again."))
    return redirect(_page_url("webhook-events"))


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


ACTIONS = {"signing_secret_remove": _remove_signing_secret, "webhook_retry": _retry_webhook_event}


@require_perm(PERM)
@require_http_methods(["GET", "POST"])
def settings_page(request):
    row = payment_settings()
    section = request.POST.get("section") if request.method == "POST" else None
    if section in ACTIONS:
        return ACTIONS[section](request)
    if request.method == "POST" and section not in SAVERS:
        messages.error(request, _("That form is out of date; please try again."))
        return redirect("payments:settings")
    forms = _forms(row, bound=section, data=request.POST)
    if section is not None:
        form = forms[section]
        if form.is_valid():
            response = _save(request, section, form)
            if response is not None:
                return response
    status = 400 if section is not None and forms[section].errors else 200
    return _render_page(request, payment_settings(), forms, status=status)
