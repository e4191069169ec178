from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from commerce_hub.access import get_for_user, require_perm
from commerce_hub.accounts import selectors, two_factor
from commerce_hub.accounts.filters import AuditEntryFilter
from commerce_hub.accounts.forms import (
    AcceptInvitationForm,
    InviteForm,
    LoginForm,
    PasswordResetForm,
    RoleForm,
)
from commerce_hub.accounts.models import AuditEntry, Invitation, User
from commerce_hub.accounts.ratelimit import ratelimit_hit, ratelimit_peek, too_many_requests
from commerce_hub.accounts.services import users as user_services
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.accounts.sessions import sessions_end_others
from commerce_hub.accounts.throttle import (
    device_cookie_set,
    device_from_request,
    login_attempt_reserve,
    login_clear_failures,
    login_reset_all,
)
from commerce_hub.accounts.views_security import login_pending_start
from commerce_hub.forms import form_add_errors
from commerce_hub.pagination import keyset_page
from commerce_hub.request_context import client_ip
from commerce_hub.site_urls import tenant_url


def request_tenant_domain(request) -> str:
    return request.tenant.get_primary_domain().domain


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and getattr(request.tenant, "email_verification_pending", False):
        form.is_valid()
        form.add_error(
            None, _("Confirm your email address first: follow the link we sent when this workspace was created.")
        )
        return render(request, "accounts/login.html", {"form": form}, status=403)
    if request.method == "POST" and form.is_valid():
        email, ip = form.cleaned_data["email"], client_ip(request)
        # Credential stuffing: one address trying many accounts waits once its failures pass the limit.
        verdict = ratelimit_peek(name="login", keys=[ip])
        if not verdict.allowed:
            return too_many_requests(request, name="login", retry_after=verdict.retry_after)
        device = device_from_request(request, email)
        # Reserved before the password is checked, so a shut gate learns nothing from further guesses and
        # parallel requests cannot all slip in under the limit.
        allowed, first_refusal, wait = login_attempt_reserve(email, ip, device=device)
        if not allowed:
            if first_refusal:
                audit_record(actor=None, action="auth.locked_out", object_type="accounts.user", object_repr=email)
            minutes = max(1, -(-wait // 60))
            form.add_error(
                None,
                ngettext(
                    "Too many failed sign-in attempts. Wait %(minutes)d minute or reset your password.",
                    "Too many failed sign-in attempts. Wait %(minutes)d minutes or reset your password.",
                    minutes,
                )
                % {"minutes": minutes},
            )
            response = render(request, "accounts/login.html", {"form": form}, status=429)
            response["Retry-After"] = str(wait)
            return response
        user = authenticate(request, username=email, password=form.cleaned_data["password"])
        if user is None:
            ratelimit_hit(name="login", keys=[ip])
            form.add_error(None, _("That email and password do not match an active account."))
        else:
            login_clear_failures(email, ip, device=device)
            next_url = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
                next_url = reverse("home")
            if two_factor.user_has_two_factor(user):
                return login_pending_start(request, user, next_url)
            # login() gives the session a new key (no session fixation).
            login(request, user)
            audit_record(actor=user, action="auth.login", obj=user)
            response = redirect(next_url)
            device_cookie_set(response, request, user.email)
            return response
    return render(request, "accounts/login.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        audit_record(actor=request.user, action="auth.logout", obj=request.user)
    logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("accounts:login")


def welcome(request, token: str):
    """The one-time link a new tenant's admin lands on right after signup."""
    from commerce_hub.accounts.services.welcome import welcome_token_user

    user = welcome_token_user(token)
    if user is None:
        messages.error(request, _("This sign-in link has expired. Sign in with your email and password."))
        return redirect("accounts:login")
    if request.tenant.email_verification_pending:
        # The link came by email: the address is the admin's, and the workspace opens.
        type(request.tenant).objects.filter(pk=request.tenant.pk).update(email_verification_pending=False)
        request.tenant.email_verification_pending = False
    login(request, user, backend="commerce_hub.accounts.backends.RoleBackend")
    messages.success(request, _("Welcome to Commerce Hub. Start by completing your company profile."))
    return redirect("organization:profile")


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request, *args, **kwargs):
        # Per client address and per address asked for: no mail bombing of one person, no sweeping of many.
        email = request.POST.get("email", "")[:254]
        verdict = ratelimit_hit(name="password_reset", keys=[client_ip(request), f"email:{email.strip().lower()}"])
        if not verdict.allowed:
            return too_many_requests(request, name="password_reset", retry_after=verdict.retry_after)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # The link is built from the tenant's own primary domain and the configured scheme and port, never from the
        # Host header this request came with (another of the tenant's names, or a forged one behind a proxy).
        host = tenant_url(request_tenant_domain(self.request), "/").split("://", 1)[1].rstrip("/")
        form.save(
            domain_override=host,
            use_https=settings.SITE_SCHEME == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=self.html_email_template_name,
            extra_email_context=self.extra_email_context,
        )
        return redirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def render_to_response(self, context, **kwargs):
        # An unknown or used link is a page that does not exist (for this visitor): 404, with a way forward.
        if not context.get("validlink"):
            kwargs["status"] = 404
        return super().render_to_response(context, **kwargs)

    def form_valid(self, form):
        # The new password and its audit row commit together.
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(actor=form.user, action="auth.password_reset", obj=form.user)
        # Whoever was held back by failed sign-ins can sign in again, and every session of the account ends.
        login_reset_all(form.user.email)
        sessions_end_others(user=form.user, keep_session_key=None)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token: str):
    ip = client_ip(request)
    verdict = ratelimit_peek(name="invitation", keys=[ip])
    if not verdict.allowed:
        return too_many_requests(request, name="invitation", retry_after=verdict.retry_after)
    invitation = user_services.invitation_get_open(token)
    if invitation is None:
        # Only misses count: guessing invitation links is what is limited, not filling in a real one.
        ratelimit_hit(name="invitation", keys=[ip])
        return render(request, "accounts/invitation_invalid.html", status=404)
    form = AcceptInvitationForm(
        request.POST or None, initial={"full_name": invitation.full_name, "language": request.LANGUAGE_CODE}
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = user_services.invitation_accept(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
                language=form.cleaned_data["language"],
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            login(request, user, backend="commerce_hub.accounts.backends.RoleBackend")
            messages.success(request, _("Welcome aboard."))
            return redirect("home")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"form": form, "invitation": invitation},
        status=400 if form.errors else 200,
    )


@require_perm("accounts.manage_users")
def user_list(request):
    users = selectors.user_list()
    invitations = selectors.invitation_list_open().select_related("invited_by")
    return render(
        request,
        "accounts/users.html",
        {
            "users": users,
            "invitations": invitations,
            "invite_form": InviteForm(),
            "active_nav": "settings",
            "settings_tab": "users",
        },
    )


@require_perm("accounts.manage_users")
@require_POST
def user_invite(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            user_services.user_invite(
                actor=request.user,
                **form.cleaned_data,
                # From the tenant's primary domain, never from this request's Host header.
                accept_url_for=lambda token: tenant_url(
                    request_tenant_domain(request), reverse("accounts:invitation_accept", args=[token])
                ),
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": form.cleaned_data["email"]})
            return redirect("accounts:users")
    users = selectors.user_list()
    invitations = selectors.invitation_list_open()
    return render(
        request,
        "accounts/users.html",
        {
            "users": users,
            "invitations": invitations,
            "invite_form": form,
            "active_nav": "settings",
            "settings_tab": "users",
        },
        status=400,
    )


@require_perm("accounts.manage_users")
@require_POST
def invitation_revoke(request, pk: int):
    invitation = get_for_user(request.user, Invitation.objects.all(), "accounts.manage_users", pk=pk)
    user_services.invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(request, _("Invitation revoked."))
    return redirect("accounts:users")


@require_perm("accounts.manage_users")
@require_http_methods(["GET", "POST"])
def user_detail(request, pk: int):
    user = get_for_user(request.user, User.objects.all(), "accounts.manage_users", pk=pk)
    form = RoleForm(request.POST or None, initial={"role": user.role})
    if request.method == "POST" and form.is_valid():
        try:
            user_services.user_set_role(user=user, role=form.cleaned_data["role"], actor=request.user)
        except ValidationError as exc:
            form.add_error("role", exc.messages)
        else:
            messages.success(request, _("Role updated."))
            return redirect("accounts:user_detail", pk=user.pk)
    entries = selectors.audit_entries_for_user(user)
    return render(
        request,
        "accounts/user_detail.html",
        {
            "subject": user,
            "form": form,
            "entries": entries,
            "active_nav": "settings",
            "settings_tab": "users",
        },
        status=400 if form.errors else 200,
    )


@require_perm("accounts.manage_users")
@require_http_methods(["GET", "POST"])
def user_deactivate(request, pk: int):
    """GET asks for confirmation; POST does it."""
    user = get_for_user(request.user, User.objects.all(), "accounts.manage_users", pk=pk)
    if request.method == "POST":
        try:
            user_services.user_deactivate(user=user, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("%(name)s can no longer sign in.") % {"name": user})
        return redirect("accounts:user_detail", pk=user.pk)
    return render(
        request,
        "accounts/user_deactivate.html",
        {"subject": user, "active_nav": "settings", "settings_tab": "users"},
    )


@require_perm("accounts.manage_users")
@require_POST
def user_reactivate(request, pk: int):
    user = get_for_user(request.user, User.objects.all(), "accounts.manage_users", pk=pk)
    user_services.user_reactivate(user=user, actor=request.user)
    messages.success(request, _("%(name)s can sign in again.") % {"name": user})
    return redirect("accounts:user_detail", pk=user.pk)


@require_perm("accounts.view_audit_log")
def audit_log(request):
    filterset = AuditEntryFilter(request.GET or None, queryset=AuditEntry.objects.select_related("actor"))
    page = keyset_page(filterset.qs, ordering=["-created_at", "-id"], cursor=request.GET.get("after"), size=50)
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "accounts/audit_log.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "active_nav": "settings",
            "settings_tab": "audit",
        },
    )
