"""Coupons, under Subscriptions: the list (active and archived, with how many subscriptions use each), a new coupon,
archiving one. A coupon a subscription used is never deleted."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from billing.forms.coupons import CouponForm
from billing.models import Coupon
from billing.services.coupons import CouponValues, coupon_archive, coupon_create
from billing.views.subscriptions import MANAGE, VIEW, errors_to_messages
from commerce_hub.access import require_perm
from commerce_hub.forms import form_add_errors
from commerce_hub.idempotency.web import idempotent


@require_perm(VIEW)
@require_GET
def coupon_list(request):
    coupons = list(Coupon.objects.annotate(used=Count("subscriptions")).order_by("-active", "name", "id"))
    return render(request, "billing/coupons/list.html", {"coupons": coupons, "active_nav": "subscriptions"})


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def coupon_new(request):
    form = CouponForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        values = CouponValues(
            name=data["name"],
            code=data["code"],
            duration=data["duration"],
            percent_off=data.get("percent_off"),
            amount_off=data.get("amount_off"),
            currency=data.get("currency") or "",
            duration_periods=data.get("duration_periods"),
        )
        try:
            with idempotent(request, scope="coupon.create", params=data) as claim:
                if claim.replay:
                    return claim.replay
                coupon = coupon_create(values=values, actor=request.user)
                messages.success(request, _("Coupon “%(name)s” created.") % {"name": coupon.name})
                return claim.done(redirect("billing:coupon_list"))
        except ValidationError as exc:
            form_add_errors(form, exc)
    return render(
        request,
        "billing/coupons/new.html",
        {"form": form, "active_nav": "subscriptions"},
        status=400 if form.errors else 200,
    )


@require_perm(MANAGE)
@require_http_methods(["GET", "POST"])
def coupon_archive_view(request, pk: int):
    coupon = get_object_or_404(Coupon, pk=pk)
    if request.method == "POST":
        try:
            with idempotent(request, scope="coupon.archive", target=coupon) as claim:
                if claim.replay:
                    return claim.replay
                coupon_archive(coupon=coupon, actor=request.user)
                messages.success(request, _("Coupon “%(name)s” archived.") % {"name": coupon.name})
                return claim.done(redirect("billing:coupon_list"))
        except ValidationError as exc:
            errors_to_messages(request, exc)
            return redirect("billing:coupon_list")
    return render(
        request,
        "billing/subscriptions/confirm.html",
        {
            "title": _("Archive coupon “%(name)s”") % {"name": coupon.name},
            "text": _("It can no longer be applied. Subscriptions that have it keep it for its duration."),
            "button": _("Archive"),
            "back_url": "billing:coupon_list",
            "active_nav": "subscriptions",
        },
    )
