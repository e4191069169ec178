"""A person's own account security (password, two-factor authentication, sessions) and the tenant's policy."""

import time

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from commerce_hub.access import require_perm
from commerce_hub.accounts import two_factor
from commerce_hub.accounts.forms import OtpTokenForm, SecurityPolicyForm
from commerce_hub.accounts.models import SecurityPolicy, User
from commerce_hub.accounts.ratelimit import ratelimit_hit, ratelimit_peek, too_many_requests
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.accounts.sessions import (
    security_policy,
    security_policy_forget,
    session_list_for,
    sessions_end_others,
)
from commerce_hub.accounts.throttle import device_cookie_set, login_reset_all
from commerce_hub.request_context import client_ip

PENDING_USER = "_ch_2fa_user"
PENDING_AT = "_ch_2fa_at"
PENDING_NEXT = "_ch_2fa_next"
PENDING_MAX_SECONDS = 300


def _account_context(request, **extra):
    return {"active_nav": None, **extra}


@login_required
def account_security(request):
    return render(
        request,
        "accounts/security.html",
        _account_context(
            request,
            sessions=session_list_for(request.user),
            current_key=request.session.session_key,
            has_two_factor=two_factor.user_has_two_factor(request.user),
            recovery_left=two_factor.recovery_codes_left(request.user),
            two_factor_required=two_factor.two_factor_required_for(request.user),
        ),
    )


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            audit_record(actor=user, action="auth.password_changed", obj=user)
        # A new session key for this browser (the old one may have leaked), and every other session ends.
        update_session_auth_hash(request, user)
        sessions_end_others(user=user, keep_session_key=request.session.session_key)
        login_reset_all(user.email)
        messages.success(request, _("Your password is changed. You were signed out everywhere else."))
        return redirect("accounts:security")
    return render(
        request,
        "accounts/password_change.html",
        _account_context(request, form=form),
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def sessions_logout_others(request):
    ended = sessions_end_others(user=request.user, keep_session_key=request.session.session_key)
    audit_record(actor=request.user, action="auth.sessions_ended", obj=request.user)
    messages.success(
        request,
        ngettext("Signed out of %(count)d other session.", "Signed out of %(count)d other sessions.", ended)
        % {"count": ended},
    )
    return redirect("accounts:security")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request):
    """Scan the QR code, enter a code to prove it works; then the recovery codes are shown once."""
    if two_factor.user_has_two_factor(request.user):
        return redirect("accounts:security")
    device = two_factor.totp_device_pending(request.user)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verdict = ratelimit_peek(name="otp", keys=[f"user:{request.user.pk}"])
        if not verdict.allowed:
            return too_many_requests(request, name="otp", retry_after=verdict.retry_after)
        codes = two_factor.totp_confirm(user=request.user, device=device, token=form.cleaned_data["token"])
        if codes is None:
            ratelimit_hit(name="otp", keys=[f"user:{request.user.pk}"])
            form.add_error("token", _("That code is not right. Check the time on your phone and try the newest code."))
        else:
            audit_record(actor=request.user, action="auth.two_factor_enabled", obj=request.user)
            two_factor.session_mark_verified(request)
            return render(request, "accounts/two_factor_codes.html", _account_context(request, codes=codes))
    return render(
        request,
        "accounts/two_factor_setup.html",
        _account_context(
            request,
            form=form,
            qr_data_uri=two_factor.totp_qr_data_uri(device, issuer=getattr(request.tenant, "name", "Commerce Hub")),
            secret=two_factor.totp_secret_base32(device),
            required=two_factor.two_factor_required_for(request.user),
        ),
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def two_factor_disable(request):
    form = OtpTokenForm(request.POST)
    if two_factor.two_factor_required_for(request.user):
        messages.error(request, _("Your workspace requires two-factor authentication for your role."))
        return redirect("accounts:security")
    if not form.is_valid() or not two_factor.token_verify(request.user, form.cleaned_data["token"]):
        ratelimit_hit(name="otp", keys=[f"user:{request.user.pk}"])
        messages.error(request, _("That code is not right. Two-factor authentication stays on."))
        return redirect("accounts:security")
    two_factor.two_factor_remove(request.user)
    audit_record(actor=request.user, action="auth.two_factor_disabled", obj=request.user)
    messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:security")


def login_pending_start(request, user, next_url: str):
    """The password was right and the account has two-factor authentication: ask for a code before signing in."""
    request.session.cycle_key()
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_AT] = int(time.time())
    request.session[PENDING_NEXT] = next_url
    return redirect("accounts:login_verify")


@require_http_methods(["GET", "POST"])
def login_verify(request):
    user_id = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_AT, 0)
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None or time.time() - started > PENDING_MAX_SECONDS:
        for key in (PENDING_USER, PENDING_AT, PENDING_NEXT):
            request.session.pop(key, None)
        messages.info(request, _("Sign in again to continue."))
        return redirect("accounts:login")
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        keys = [f"user:{user.pk}", client_ip(request)]
        verdict = ratelimit_peek(name="otp", keys=keys)
        if not verdict.allowed:
            return too_many_requests(request, name="otp", retry_after=verdict.retry_after)
        if two_factor.token_verify(user, form.cleaned_data["token"]):
            next_url = request.session.get(PENDING_NEXT) or reverse("home")
            for key in (PENDING_USER, PENDING_AT, PENDING_NEXT):
                request.session.pop(key, None)
            login(request, user, backend="commerce_hub.accounts.backends.RoleBackend")
            two_factor.session_mark_verified(request)
            audit_record(actor=user, action="auth.login", obj=user)
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
                next_url = reverse("home")
            response = redirect(next_url)
            device_cookie_set(response, request, user.email)
            return response
        ratelimit_hit(name="otp", keys=keys)
        audit_record(actor=None, action="auth.two_factor_failed", object_type="accounts.user", object_repr=user.email)
        form.add_error("token", _("That code is not right. Try the newest code from your app, or a recovery code."))
    return render(request, "accounts/login_verify.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_session_verify(request):
    """A signed-in session that never gave a second factor, once the tenant requires one: a code lets it go on."""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = reverse("home")
    if request.session.get(two_factor.SESSION_VERIFIED) or not two_factor.user_has_two_factor(request.user):
        return redirect(next_url)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Counted before the code is checked, so parallel guesses cannot pass the limit together.
        verdict = ratelimit_hit(name="otp", keys=[f"user:{request.user.pk}", client_ip(request)])
        if not verdict.allowed:
            return too_many_requests(request, name="otp", retry_after=verdict.retry_after)
        if two_factor.token_verify(request.user, form.cleaned_data["token"]):
            two_factor.session_mark_verified(request)
            audit_record(actor=request.user, action="auth.two_factor_verified", obj=request.user)
            return redirect(next_url)
        audit_record(
            actor=request.user,
            action="auth.two_factor_failed",
            object_type="accounts.user",
            object_repr=request.user.email,
        )
        form.add_error("token", _("That code is not right. Try the newest code from your app, or a recovery code."))
    return render(
        request,
        "accounts/two_factor_session_verify.html",
        {"form": form, "next": next_url},
        status=400 if form.errors else 200,
    )


@require_perm("accounts.manage_settings")
@require_http_methods(["GET", "POST"])
def security_settings(request):
    policy = security_policy()
    form = SecurityPolicyForm(
        request.POST or None,
        initial={
            "idle_timeout_minutes": policy.idle_timeout_minutes,
            "require_two_factor_for_admins_and_finance": policy.require_two_factor_for_admins_and_finance,
        },
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            SecurityPolicy.objects.update_or_create(pk=1, defaults=form.cleaned_data)
            audit_record(actor=request.user, action="settings.security_changed", object_type="accounts.securitypolicy")
        security_policy_forget()
        messages.success(request, _("Security settings saved."))
        return redirect("accounts:security_settings")
    return render(
        request,
        "accounts/security_settings.html",
        {"form": form, "active_nav": "settings", "settings_tab": "security"},
        status=400 if form.errors else 200,
    )
