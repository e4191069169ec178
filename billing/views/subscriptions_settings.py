"""Settings → Subscriptions: dunning retries, what the last retry does, trial reminders."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.forms.coupons import SubscriptionSettingsForm
from billing.selectors.subscription_settings import subscription_settings_get
from billing.services.subscription_settings import subscription_settings_update
from commerce_hub.access import require_perm
from commerce_hub.forms import form_add_errors


@require_perm("accounts.manage_settings")
@require_http_methods(["GET", "POST"])
def subscription_settings(request):
    current = subscription_settings_get()
    initial = {
        "retry_days": ", ".join(str(day) for day in current.retry_days or []),
        "after_final_retry": current.after_final_retry,
        "trial_reminder_days": current.trial_reminder_days,
    }
    form = SubscriptionSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            subscription_settings_update(**form.cleaned_data, actor=request.user)
            messages.success(request, _("Subscription settings saved."))
            return redirect("billing:subscription_settings")
        except ValidationError as exc:
            form_add_errors(form, exc)
    return render(
        request,
        "billing/subscription_settings/page.html",
        {"form": form, "active_nav": "settings", "settings_tab": "subscriptions"},
        status=400 if form.errors else 200,
    )
