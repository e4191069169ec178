"""Attacks on accounts, sessions, rate limits and headers: each is refused and changes nothing."""

import os
import re
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from commerce_hub.accounts import two_factor
from commerce_hub.accounts.models import Role, SecurityPolicy, UserSession
from commerce_hub.accounts.sessions import SEEN_AT
from commerce_hub.tenancy.models import Domain
from tests.conftest import PASSWORD, user_make


@pytest.fixture
def member(tenant_alpha):
    return user_make(Role.FINANCE, email="fenna@alpha.example", full_name="Fenna Finance")


def _login(client, email=None, password=PASSWORD, ip="203.0.113.7"):
    return client.post("/login/", {"email": email or "fenna@alpha.example", "password": password}, REMOTE_ADDR=ip)


def _code(device):
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def test_login_rotates_the_session_key(client_alpha, member):
    client_alpha.get("/login/")
    client_alpha.cookies["sessionid"] = "attacker-chosen-session-key-1234"
    assert _login(client_alpha).status_code == 302
    assert client_alpha.cookies["sessionid"].value != "attacker-chosen-session-key-1234"


def test_throttle_delays_grow_and_never_lock_the_owner_on_a_known_device(client_alpha, member, settings):
    owner = Client(HTTP_HOST="alpha.localhost")
    assert _login(owner, ip="198.51.100.1").status_code == 302  # the owner's browser gets its device cookie
    owner.post("/logout/")
    # An attacker from many addresses (more than the account's 20 untrusted attempts) guesses.
    for n in range(25):
        _login(Client(HTTP_HOST="alpha.localhost"), password="wrong-guess", ip=f"192.0.2.{n}")
    stranger = _login(Client(HTTP_HOST="alpha.localhost"), ip="192.0.2.200")
    assert stranger.status_code == 429 and int(stranger["Retry-After"]) >= 1
    # The owner's browser still gets in, with the right password.
    assert _login(owner, ip="192.0.2.201").status_code == 302


def test_throttle_gate_grows_with_each_attempt(tenant_alpha):
    from commerce_hub.accounts.throttle import delay_for

    assert [delay_for(n) for n in range(4)] == [30, 60, 120, 240]
    assert delay_for(50) == settings.LOGIN_DELAY_MAX_SECONDS


def test_completed_password_reset_clears_the_throttle(
    client_alpha, member, django_capture_on_commit_callbacks, eager_tasks
):
    for _ in range(6):
        _login(client_alpha, password="wrong")
    assert _login(client_alpha).status_code == 429
    with django_capture_on_commit_callbacks(execute=True):
        client_alpha.post("/password-reset/", {"email": "fenna@alpha.example"})
    link = re.search(r"(/password-reset/\S+/)", mail.outbox[0].body).group(1)
    page = client_alpha.get(link, follow=True)
    client_alpha.post(
        page.redirect_chain[-1][0], {"new_password1": "brand-new-pass-77", "new_password2": "brand-new-pass-77"}
    )
    assert _login(client_alpha, password="brand-new-pass-77").status_code == 302


def test_reset_link_uses_the_primary_domain_not_the_host_header(
    tenant_alpha, member, django_capture_on_commit_callbacks, eager_tasks
):
    Domain.objects.create(domain="alias-alpha.localhost", tenant=tenant_alpha, is_primary=False)
    with django_capture_on_commit_callbacks(execute=True):
        Client(HTTP_HOST="alias-alpha.localhost").post("/password-reset/", {"email": "fenna@alpha.example"})
    body = mail.outbox[0].body
    assert "alias-alpha" not in body and "http://alpha.localhost:8000/password-reset/" in body


def test_password_reset_is_rate_limited_per_address_asked_for(client_alpha, member):
    for n in range(5):
        assert (
            client_alpha.post(
                "/password-reset/", {"email": "fenna@alpha.example"}, REMOTE_ADDR=f"192.0.2.{n}"
            ).status_code
            == 302
        )
    response = client_alpha.post("/password-reset/", {"email": "fenna@alpha.example"}, REMOTE_ADDR="192.0.2.99")
    assert response.status_code == 429 and "Too many attempts" in response.content.decode()


def test_reset_links_expire_after_an_hour():
    assert settings.PASSWORD_RESET_TIMEOUT == 3600


def test_password_change_needs_the_old_password_and_ends_other_sessions(client_alpha, member):
    other = Client(HTTP_HOST="alpha.localhost")
    assert _login(other, ip="198.51.100.2").status_code == 302
    assert _login(client_alpha).status_code == 302
    before = client_alpha.cookies["sessionid"].value
    refused = client_alpha.post(
        "/account/password/",
        {"old_password": "guess", "new_password1": "x-new-pass-123", "new_password2": "x-new-pass-123"},
    )
    assert refused.status_code == 400
    member.refresh_from_db()
    assert member.check_password(PASSWORD)
    response = client_alpha.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "x-new-pass-123", "new_password2": "x-new-pass-123"},
    )
    assert response.status_code == 302
    assert client_alpha.cookies["sessionid"].value != before  # rotated
    assert client_alpha.get("/").status_code == 200
    assert other.get("/").status_code == 302  # signed out


def test_log_out_other_sessions(client_alpha, member):
    other = Client(HTTP_HOST="alpha.localhost")
    _login(other, ip="198.51.100.3")
    _login(client_alpha)
    assert UserSession.objects.filter(user=member).count() == 2
    done = client_alpha.post("/account/sessions/sign-out-others/", follow=True)
    assert "Signed out of 1 other session." in done.content.decode()
    assert other.get("/").status_code == 302
    assert client_alpha.get("/").status_code == 200
    assert UserSession.objects.filter(user=member).count() == 1


def test_idle_session_is_signed_out(client_alpha, member):
    _login(client_alpha)
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"idle_timeout_minutes": 30})
    from commerce_hub.accounts.sessions import security_policy_forget

    security_policy_forget()
    session = client_alpha.session
    session[SEEN_AT] = int(time.time()) - 31 * 60
    session.save()
    response = client_alpha.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not Session.objects.filter(session_key=session.session_key).exists()


def test_two_factor_login_refuses_wrong_codes_and_accepts_a_recovery_code_once(client_alpha, member):
    device = TOTPDevice.objects.create(user=member, name="authenticator", confirmed=False)
    codes = two_factor.totp_confirm(user=member, device=device, token=_code(device))
    assert len(codes) == 10
    response = _login(client_alpha)
    assert response["Location"] == "/login/verify/"
    assert client_alpha.get("/").status_code == 302  # not signed in yet
    assert client_alpha.post("/login/verify/", {"token": "000000"}).status_code == 400
    assert client_alpha.get("/").status_code == 302
    time.sleep(1.1)  # django-otp holds a device back for a second after a wrong code
    assert client_alpha.post("/login/verify/", {"token": codes[0]})["Location"] == "/"
    assert client_alpha.get("/").status_code == 200
    # The recovery code is used up.
    again = Client(HTTP_HOST="alpha.localhost")
    _login(again)
    assert again.post("/login/verify/", {"token": codes[0]}).status_code == 400


def test_two_factor_required_by_the_tenant_sends_finance_to_setup(client_alpha, member):
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"require_two_factor_for_admins_and_finance": True})
    from commerce_hub.accounts.sessions import security_policy_forget

    security_policy_forget()
    _login(client_alpha)
    assert client_alpha.get("/").headers["Location"] == "/account/two-factor/"
    page = client_alpha.get("/account/two-factor/")
    assert page.status_code == 200 and "data:image/svg+xml" in page.content.decode()
    device = TOTPDevice.objects.get(user=member, confirmed=False)
    assert client_alpha.post("/account/two-factor/", {"token": "123"}).status_code == 400
    time.sleep(1.1)  # django-otp holds a device back for a second after a wrong code
    assert client_alpha.post("/account/two-factor/", {"token": _code(device)}).status_code == 200
    assert client_alpha.get("/").status_code == 200


def test_hosted_token_guesses_are_rate_limited(client_alpha):
    for n in range(30):
        assert client_alpha.get(f"/billing/i/guess{n}/").status_code == 404
    response = client_alpha.get("/billing/i/guess-more/")
    page = response.content.decode()
    assert response.status_code == 429 and "Too many attempts" in page
    minutes = -(-int(response["Retry-After"]) // 60)
    assert f"You opened links that do not exist too often in a short time. Wait {minutes} minute" in page
    assert "minute(s)" not in page
    # Another address is not affected.
    assert client_alpha.get("/billing/i/guess-more/", REMOTE_ADDR="198.51.100.50").status_code == 404


def test_invitation_guesses_are_rate_limited(client_alpha):
    for n in range(20):
        assert client_alpha.get(f"/invitations/guess{n}/").status_code == 404
    assert client_alpha.get("/invitations/guess-more/").status_code == 429


def test_logged_in_pages_are_not_stored_and_headers_are_set(admin_client):
    response = admin_client.get("/")
    assert "no-store" in response["Cache-Control"]
    assert "script-src 'self' https://js.stripe.com" in response["Content-Security-Policy"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_anonymous_login_page_is_cacheable_by_default_rules(client_alpha):
    assert "no-store" not in client_alpha.get("/login/").get("Cache-Control", "")


def test_check_deploy_passes_with_production_settings():
    # The browser tests allow Django's ORM from async code in this process; a deployment never sets that.
    testing_only = {"COMMERCE_HUB_TESTING", "DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in testing_only}
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": "a-production-secret-key-with-more-than-fifty-characters-0123456789",
            "COMMERCE_HUB_SITE_SCHEME": "https",
            "COMMERCE_HUB_BASE_DOMAIN": "example.com",
            "DJANGO_SETTINGS_MODULE": "commerce_hub.settings",
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_csv_exports_and_pdfs_are_not_stored(admin_client):
    from crm.models import Company

    Company.objects.create(name="Noordzee Visserij B.V.")
    response = admin_client.get("/crm/companies/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "no-store" in response["Cache-Control"]


def test_a_session_past_its_absolute_lifetime_is_signed_out_even_when_active(client_alpha, member):
    from commerce_hub.accounts.sessions import AUTH_AT

    _login(client_alpha)
    session = client_alpha.session
    session[AUTH_AT] = int(time.time()) - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    response = client_alpha.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert client_alpha.get("/").status_code == 302


def test_a_session_opened_before_two_factor_was_required_must_give_a_code_on_its_next_request(client_alpha, member):
    from commerce_hub.accounts.sessions import security_policy_forget

    assert _login(client_alpha).status_code == 302  # no authenticator yet: signed in with the password alone
    assert client_alpha.get("/").status_code == 200
    # Meanwhile the member sets up an authenticator in another browser, and the tenant makes it required.
    device = TOTPDevice.objects.create(user=member, name="authenticator", confirmed=False)
    codes = two_factor.totp_confirm(user=member, device=device, token=_code(device))
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"require_two_factor_for_admins_and_finance": True})
    security_policy_forget()
    response = client_alpha.get("/billing/invoices/")
    assert response.status_code == 302
    assert response["Location"] == "/account/two-factor/verify/?next=%2Fbilling%2Finvoices%2F"
    htmx = client_alpha.get("/billing/invoices/", HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == "/account/two-factor/verify/"
    page = client_alpha.get(response["Location"])
    assert page.status_code == 200 and "Enter the code from your authenticator app" in page.content.decode()
    wrong = client_alpha.post("/account/two-factor/verify/", {"token": "000000", "next": "/billing/invoices/"})
    assert wrong.status_code == 400
    assert client_alpha.get("/billing/invoices/").status_code == 302  # still held at the gate
    time.sleep(1.1)  # django-otp holds a device back for a second after a wrong code
    # The authenticator's current code was used up by its setup: a recovery code goes as well.
    right = client_alpha.post("/account/two-factor/verify/", {"token": codes[0], "next": "/billing/invoices/"})
    assert right["Location"] == "/billing/invoices/"
    assert client_alpha.get("/billing/invoices/").status_code == 200


def test_a_session_without_an_authenticator_is_sent_to_setup_once_two_factor_is_required(client_alpha, member):
    from commerce_hub.accounts.sessions import security_policy_forget

    _login(client_alpha)
    assert client_alpha.get("/").status_code == 200
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"require_two_factor_for_admins_and_finance": True})
    security_policy_forget()
    assert client_alpha.get("/crm/deals/")["Location"] == "/account/two-factor/"


def test_turning_two_factor_off_needs_a_valid_code(client_alpha, member):
    device = TOTPDevice.objects.create(user=member, name="authenticator", confirmed=False)
    two_factor.totp_confirm(user=member, device=device, token=_code(device))
    client_alpha.force_login(member)
    client_alpha.post("/account/two-factor/disable/", {"token": "000000"})
    assert two_factor.user_has_two_factor(member)


def test_only_admins_change_the_security_policy(client_alpha, member):
    client_alpha.force_login(member)  # finance
    response = client_alpha.post("/settings/security/", {"idle_timeout_minutes": "5"})
    assert response.status_code == 403
    assert not SecurityPolicy.objects.filter(idle_timeout_minutes=5).exists()


def test_security_policy_refuses_absurd_timeouts(admin_client):
    response = admin_client.post("/settings/security/", {"idle_timeout_minutes": "9" * 50})
    assert response.status_code == 400
    assert not SecurityPolicy.objects.exclude(idle_timeout_minutes=720).exists()


def test_checkout_pages_may_send_their_form_on_to_a_processor_others_may_not(client_alpha):
    from tests.payments.paying import open_invoice

    invoice = open_invoice()
    checkout = client_alpha.get(f"/payments/pay/{invoice.public_token}/")
    assert checkout.status_code == 200
    assert "form-action 'self' https:" in checkout["Content-Security-Policy"]
    login = client_alpha.get("/login/")
    assert "form-action 'self';" in login["Content-Security-Policy"] + ";"
    assert "https:" not in login["Content-Security-Policy"].split("form-action")[1].split(";")[0]


def test_concurrent_hosted_link_guesses_pass_exactly_the_limit(tenant_alpha):
    """50 guesses from one address at the same moment: exactly 30 reach the view, the rest get 429."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from django.http import HttpResponseNotFound
    from django.test import RequestFactory

    from commerce_hub.accounts.ratelimit import LIMITS
    from commerce_hub.middleware import HostedTokenGuardMiddleware

    limit = LIMITS["hosted_token"].hits
    start = threading.Barrier(50)
    reached = []

    def view(request):
        reached.append(1)
        time.sleep(0.2)  # every guess is inside the view while the others are checked
        return HttpResponseNotFound()

    guard = HostedTokenGuardMiddleware(view)

    def guess(n):
        request = RequestFactory().get(f"/billing/i/guess{n}/", REMOTE_ADDR="203.0.113.99")
        request.tenant = tenant_alpha
        start.wait(10)
        return guard(request).status_code

    from unittest import mock

    from django.http import HttpResponse

    # The 429 page itself reads the tenant's profile, which these threads' connections cannot see.
    refused = mock.patch(
        "commerce_hub.accounts.ratelimit.too_many_requests", lambda request, **kw: HttpResponse(status=429)
    )
    with refused, ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(guess, range(50)))
    assert (statuses.count(404), statuses.count(429), len(reached)) == (limit, 50 - limit, limit)


def test_concurrent_rate_limit_hits_allow_exactly_the_limit(tenant_alpha):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from commerce_hub.accounts.ratelimit import LIMITS, ratelimit_hit

    start = threading.Barrier(40)

    def hit(_n):
        start.wait(10)
        return ratelimit_hit(name="signup", keys=["198.51.100.9"], now=1_000_000.0).allowed

    with ThreadPoolExecutor(max_workers=40) as pool:
        allowed = list(pool.map(hit, range(40)))
    assert allowed.count(True) == LIMITS["signup"].hits


def test_an_existing_hosted_link_does_not_count_as_a_guess(client_alpha):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from commerce_hub.middleware import HostedTokenGuardMiddleware

    guard = HostedTokenGuardMiddleware(lambda request: HttpResponse("ok"))
    for _ in range(40):
        assert guard(RequestFactory().get("/billing/i/real-token/", REMOTE_ADDR="203.0.113.98")).status_code == 200
    assert client_alpha.get("/billing/i/guess/", REMOTE_ADDR="203.0.113.98").status_code == 404
