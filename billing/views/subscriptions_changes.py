"""Changes to a subscription, each with a confirmation step: GET shows what will happen (with the exact amounts a
proration credits and charges), POST does it once (the form carries an idempotency key, so a double submit acts
once). The services refuse a change the subscription's state no longer allows; their words become messages."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from billing.forms.subscriptions import (
    CancelForm,
    ChangeItemsForm,
    CouponApplyForm,
    ItemFormSet,
    PauseForm,
    SimulateForm,
)
from billing.services import subscription_changes as changes
from billing.views.subscriptions import MANAGE, errors_to_messages, subscription_get, test_mode
from commerce_hub.access import require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.idempotency.web import idempotent


def _confirm(request, subscription, *, template="billing/subscriptions/confirm.html", status=200, **context):
    return render(
        request,
        template,
        {"subscription": subscription, "active_nav": "subscriptions", **context},
        status=400 if status == 200 and context.get("form") is not None and context["form"].errors else status,
    )


def _back(subscription):
    return redirect("billing:subscription_detail", subscription.pk)


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def subscription_pause(request, pk: int):
    subscription = subscription_get(request, pk, MANAGE)
    form = PauseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with idempotent(
                request, scope="subscription.pause", target=subscription, params=form.cleaned_data
            ) as claim:
                if claim.replay:
                    return claim.replay
                changes.subscription_pause(
                    subscription=subscription, actor=request.user, resume_on=form.cleaned_data["resume_on"]
                )
                messages.success(request, _("Subscription paused. No invoices are made while it is paused."))
                return claim.done(_back(subscription))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                form_add_errors(form, exc)
            else:
                errors_to_messages(request, exc)
                return _back(subscription)
    return _confirm(
        request,
        subscription,
        form=form,
        title=_("Pause %(name)s") % {"name": subscription.name},
        text=_(
            "Nothing is billed while it is paused. Resuming starts a new period on the day it resumes, and the "
            "following periods count from that day."
        ),
        button=_("Pause"),
    )


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def subscription_resume(request, pk: int):
    subscription = subscription_get(request, pk, MANAGE)
    today = timezone.localdate()
    if request.method == "POST":
        try:
            with idempotent(request, scope="subscription.resume", target=subscription) as claim:
                if claim.replay:
                    return claim.replay
                changes.subscription_resume(subscription=subscription, actor=request.user, on=today)
                messages.success(request, _("Subscription resumed. Its next period starts today."))
                return claim.done(_back(subscription))
        except ValidationError as exc:
            errors_to_messages(request, exc)
            return _back(subscription)
    return _confirm(
        request,
        subscription,
        title=_("Resume %(name)s") % {"name": subscription.name},
        text=_("A new period starts today (%(date)s) and is billed today; later periods count from this day.")
        % {"date": today.strftime("%Y-%m-%d")},
        button=_("Resume"),
    )


def _decimal(text: str | None) -> Decimal | None:
    try:
        value = Decimal(text or "")
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def subscription_cancel(request, pk: int):
    subscription = subscription_get(request, pk, MANAGE)
    today = timezone.localdate()
    credit_preview = changes.cancel_credit_preview(subscription=subscription, on=today)
    form = CancelForm(request.POST or None)
    if not subscription.current_period_end or subscription.status == "scheduled":
        form.fields["when"].initial = "now"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            params = {**data, "expected": request.POST.get("expected_credit", "")}
            with idempotent(request, scope="subscription.cancel", target=subscription, params=params) as claim:
                if claim.replay:
                    return claim.replay
                if data["when"] == "period_end":
                    changes.subscription_cancel_at_period_end(
                        subscription=subscription, actor=request.user, reason=data["reason"]
                    )
                    messages.success(request, _("The subscription cancels at the end of the current period."))
                else:
                    changes.subscription_cancel(
                        subscription=subscription,
                        actor=request.user,
                        credit=data["credit"],
                        reason=data["reason"],
                        on=today,
                        expected_credit=_decimal(request.POST.get("expected_credit")) if data["credit"] else None,
                    )
                    messages.success(request, _("Subscription canceled. Nothing more is billed."))
                return claim.done(_back(subscription))
        except ValidationError as exc:
            errors_to_messages(request, exc)
            return _back(subscription)
    return _confirm(
        request,
        subscription,
        template="billing/subscriptions/cancel.html",
        form=form,
        credit_preview=credit_preview,
        title=_("Cancel %(name)s") % {"name": subscription.name},
    )


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def subscription_cancel_undo(request, pk: int):
    subscription = subscription_get(request, pk, MANAGE)
    if request.method == "POST":
        try:
            with idempotent(request, scope="subscription.cancel_undo", target=subscription) as claim:
                if claim.replay:
                    return claim.replay
                changes.subscription_cancel_undo(subscription=subscription, actor=request.user)
                messages.success(request, _("The subscription no longer cancels; it renews as before."))
                return claim.done(_back(subscription))
        except ValidationError as exc:
            errors_to_messages(request, exc)
            return _back(subscription)
    return _confirm(
        request,
        subscription,
        title=_("Keep %(name)s") % {"name": subscription.name},
        text=_("It will renew at the end of the period and be billed as before."),
        button=_("Don't cancel"),
    )


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def subscription_coupon(request, pk: int):
    subscription = subscription_get(request, pk, MANAGE)
    form = CouponApplyForm(request.POST or None, currency=subscription.currency)
    if request.method == "POST" and form.is_valid():
        try:
            params = {"coupon": form.cleaned_data["coupon"].pk}
            with idempotent(request, scope="subscription.coupon", target=subscription, params=params) as claim:
                if claim.replay:
                    return claim.replay
                changes.subscription_coupon_apply(
                    subscription=subscription, coupon=form.cleaned_data["coupon"], actor=request.user
                )
                messages.success(request, _("Coupon applied; the next invoices are discounted."))
                return claim.done(_back(subscription))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                form_add_errors(form, exc)
            else:
                errors_to_messages(request, exc)
                return _back(subscription)
    return _confirm(
        request,
        subscription,
        form=form,
        title=_("Apply a coupon to %(name)s") % {"name": subscription.name},
        text=_("The coupon discounts the next invoices for its duration. It replaces the current coupon, if any."),
        button=_("Apply coupon"),
        empty_form=not form.fields["coupon"].queryset.exists(),
    )


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def subscription_coupon_remove(request, pk: int):
    subscription = subscription_get(request, pk, MANAGE)
    if request.method == "POST":
        try:
            with idempotent(request, scope="subscription.coupon_remove", target=subscription) as claim:
                if claim.replay:
                    return claim.replay
                changes.subscription_coupon_remove(subscription=subscription, actor=request.user)
                messages.success(request, _("Coupon removed; the next invoices are at full price."))
                return claim.done(_back(subscription))
        except ValidationError as exc:
            errors_to_messages(request, exc)
            return _back(subscription)
    return _confirm(
        request,
        subscription,
        title=_("Remove the coupon from %(name)s") % {"name": subscription.name},
        text=_("The next invoices are at full price."),
        button=_("Remove coupon"),
    )


# --- items, with proration ------------------------------------------------------------------------------------------


def _items_change(form: ChangeItemsForm, formset) -> changes.ItemsChange:
    data = form.cleaned_data
    edits = [
        changes.LineEdit(
            line_id=line.pk,
            quantity=data[f"quantity_{line.pk}"],
            unit_price=data[f"unit_price_{line.pk}"],
            remove=data[f"remove_{line.pk}"],
        )
        for line in form.lines
    ]
    adds = [
        changes.LineAdd(product_id=row.cleaned_data["product"].pk, quantity=row.cleaned_data["quantity"])
        for row in formset
        if row.cleaned_data.get("product") is not None
    ]
    return changes.ItemsChange(edits=edits, adds=adds)


def _place_errors(form: ChangeItemsForm, formset, exc: ValidationError) -> None:
    for key, messages_ in exc.message_dict.items():
        if key.startswith("line_"):
            form.add_error(f"quantity_{key[5:]}", messages_)
        elif key.startswith("add_"):
            index = int(key[4:])
            if index < len(formset.forms):
                formset.forms[index].add_error("product", messages_)
            else:
                form.add_error(None, messages_)
        else:
            form.add_error(None, messages_)


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def subscription_change(request, pk: int):
    """Edit quantities and prices, remove lines, add library products; "Preview" shows the proration, "Confirm"
    applies exactly what the preview showed (its amounts travel with the form and are checked again)."""
    subscription = subscription_get(request, pk, MANAGE)
    if subscription.status not in changes.LIVE:
        messages.error(request, _("A canceled or ended subscription cannot change."))
        return _back(subscription)
    lines = changes.subscription_lines(subscription)
    data = request.POST if request.method == "POST" else None
    form = ChangeItemsForm(data, lines=lines)
    formset = ItemFormSet(data, prefix="add")
    preview = None
    today = timezone.localdate()
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        change = _items_change(form, formset)
        try:
            preview = changes.subscription_change_preview(subscription=subscription, change=change, on=today)
        except ValidationError as exc:
            _place_errors(form, formset, exc)
        if preview is not None and request.POST.get("confirm"):
            expected_credit = _decimal(request.POST.get("expected_credit"))
            expected_charge = _decimal(request.POST.get("expected_charge"))
            if expected_credit is None or expected_charge is None:
                messages.error(request, _("Preview the change first."))
            else:
                try:
                    params = {"change": repr(change), "credit": str(expected_credit), "charge": str(expected_charge)}
                    with idempotent(request, scope="subscription.change", target=subscription, params=params) as claim:
                        if claim.replay:
                            return claim.replay
                        _sub, invoice = changes.subscription_change_items(
                            subscription=subscription,
                            change=change,
                            actor=request.user,
                            expected_credit=expected_credit,
                            expected_charge=expected_charge,
                            on=today,
                        )
                        if invoice is not None:
                            messages.success(
                                request,
                                _("Items changed. Invoice %(number)s charges the rest of this period.")
                                % {"number": invoice.number},
                            )
                        else:
                            messages.success(request, _("Items changed."))
                        return claim.done(_back(subscription))
                except ValidationError as exc:
                    errors_to_messages(request, exc)
                    try:  # what the change does now, to confirm again
                        preview = changes.subscription_change_preview(
                            subscription=subscription, change=change, on=today
                        )
                    except ValidationError:
                        preview = None
    status = 400 if form.errors or any(formset.errors) else 200
    return render(
        request,
        "billing/subscriptions/change.html",
        {
            "subscription": subscription,
            "form": form,
            "formset": formset,
            "preview": preview,
            "active_nav": "subscriptions",
        },
        status=status,
    )


# --- simulated time (test mode) ---------------------------------------------------------------------------------------


@require_perm(MANAGE, "accounts.manage_settings")
@require_http_methods(["GET", "POST"])
def subscription_simulate(request, pk: int):
    """Move this subscription's clock forward (test mode only): the billing run bills every period that came due
    on the way, as it would have on those days."""
    if not test_mode():
        raise PermissionDenied(_("Time can be simulated in test mode only."))
    subscription = subscription_get(request, pk, MANAGE)
    from billing.services.subscription_clock import subscription_clock_advance

    form = SimulateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        to = form.cleaned_data["to"]
        try:
            with idempotent(request, scope="subscription.simulate", target=subscription, params={"to": to}) as claim:
                if claim.replay:
                    return claim.replay
                # Midday of the chosen day in the tenant's timezone: every run due that day has happened by then.
                moment = datetime.combine(to, time(12, 0))
                subscription_clock_advance(subscription=subscription, to=moment, actor=request.user)
                messages.success(request, _("The clock moved to %(date)s.") % {"date": to.isoformat()})
                return claim.done(_back(subscription))
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                form_add_errors(form, exc)
            else:
                errors_to_messages(request, exc)
                return _back(subscription)
    return _confirm(
        request,
        subscription,
        form=form,
        title=_("Simulate time for %(name)s") % {"name": subscription.name},
        text=_(
            "Test mode: this subscription lives on its own clock from now on. Every period that comes due before the "
            "new date is billed as it would have been on its day."
        ),
        button=_("Move the clock"),
    )
