import re

import pytest
from django.core import mail
from django.test import Client

from commerce_hub.accounts.models import AuditEntry, Invitation, Role, User
from tests.conftest import PASSWORD, user_make


@pytest.fixture
def member(tenant_alpha):
    return user_make(Role.SALES, email="lars@alpha.example", full_name="Lars Haugen")


def _login(client, email, password, ip="203.0.113.7"):
    return client.post("/login/", {"email": email, "password": password}, REMOTE_ADDR=ip)


def test_login_with_any_case_of_the_email_then_logout(client_alpha, member, fresh_cache):
    response = _login(client_alpha, "LARS@alpha.example", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert client_alpha.get("/").status_code == 200
    assert AuditEntry.objects.filter(action="auth.login", actor=member, ip_address="203.0.113.7").count() == 1
    response = client_alpha.post("/logout/")
    assert response["Location"] == "/login/"
    assert client_alpha.get("/").status_code == 302


def test_wrong_password_gives_one_message_for_unknown_and_known_emails(client_alpha, member, fresh_cache):
    for email in ["lars@alpha.example", "nobody@alpha.example"]:
        response = _login(client_alpha, email, "wrong-password")
        assert response.status_code == 400
        assert "That email and password do not match an active account." in response.content.decode()


def test_login_is_throttled_after_five_failures_even_with_the_right_password(client_alpha, member, fresh_cache):
    for _ in range(5):
        assert _login(client_alpha, "lars@alpha.example", "wrong-password").status_code == 400
    response = _login(client_alpha, "lars@alpha.example", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts." in response.content.decode()
    assert AuditEntry.objects.filter(action="auth.locked_out", object_repr="lars@alpha.example").count() == 1
    # Another address is not locked by this one's failures.
    assert (
        _login(Client(HTTP_HOST="alpha.localhost"), "lars@alpha.example", PASSWORD, ip="198.51.100.9").status_code
        == 302
    )


def test_throttle_counts_per_tenant(client_alpha, member, fresh_cache, tenant_bravo):
    for _ in range(5):
        _login(client_alpha, "lars@alpha.example", "wrong-password")
    from django_tenants.utils import schema_context

    from commerce_hub.accounts.throttle import login_is_locked

    assert login_is_locked("lars@alpha.example", "203.0.113.7")
    with schema_context("t_bravo"):
        assert not login_is_locked("lars@alpha.example", "203.0.113.7")


def test_deactivated_user_cannot_sign_in(client_alpha, member, fresh_cache):
    User.objects.filter(pk=member.pk).update(is_active=False)
    assert _login(client_alpha, "lars@alpha.example", PASSWORD).status_code == 400


def test_next_parameter_cannot_redirect_off_site(client_alpha, member, fresh_cache):
    response = client_alpha.post(
        "/login/?next=https://evil.example/", {"email": "lars@alpha.example", "password": PASSWORD}
    )
    assert response["Location"] == "/"


def test_password_reset_by_email(client_alpha, member, django_capture_on_commit_callbacks, eager_tasks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_alpha.post("/password-reset/", {"email": "Lars@Alpha.example"})
    assert response["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["lars@alpha.example"]
    assert message.subject == "Reset your Commerce Hub password"
    link = re.search(r"http://alpha\.localhost:8000(/password-reset/\S+/)", message.body).group(1)
    assert message.alternatives[0][1] == "text/html"
    page = client_alpha.get(link, follow=True)
    assert page.status_code == 200
    response = client_alpha.post(
        page.redirect_chain[-1][0],
        {"new_password1": "new-secret-pass-42", "new_password2": "new-secret-pass-42"},
    )
    assert response["Location"] == "/password-reset/complete/"
    member.refresh_from_db()
    assert member.check_password("new-secret-pass-42")
    assert AuditEntry.objects.filter(action="auth.password_reset", actor=member).count() == 1
    # The link worked once.
    assert client_alpha.get(link, follow=True).status_code == 404


def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(
    client_alpha, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_alpha.post("/password-reset/", {"email": "ghost@alpha.example"})
    assert response["Location"] == "/password-reset/sent/"
    assert callbacks == []


def test_invitation_flow(admin_client, admin_user, django_capture_on_commit_callbacks, eager_tasks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            "/settings/users/invite/",
            {"full_name": "Kari Hansen", "email": "Kari@Alpha.example", "role": "finance"},
        )
    assert response["Location"] == "/settings/users/"
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "kari@alpha.example",
        "finance",
        admin_user,
    )
    assert len(callbacks) == 2  # the event delivery and the email, both only after commit
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["kari@alpha.example"]
    assert sent.subject == "Anna Admin invited you to Commerce Hub"
    token = re.search(r"http://alpha\.localhost:8000/invitations/([\w-]+)/", sent.body).group(1)
    # The token travels only in the email; the database holds its hash.
    assert token not in invitation.token_hash and len(token) >= 43

    client = Client(HTTP_HOST="alpha.localhost")
    assert client.get(f"/invitations/{token}/").status_code == 200
    bad = client.post(
        f"/invitations/{token}/",
        {
            "full_name": "Kari Hansen",
            "language": "nb",
            "password": "fjord-fjell-2026",
            "password_again": "other",
        },
    )
    assert bad.status_code == 400
    assert "The two passwords differ." in bad.content.decode()
    response = client.post(
        f"/invitations/{token}/",
        {
            "full_name": "Kari Hansen",
            "language": "nb",
            "password": "fjord-fjell-2026",
            "password_again": "fjord-fjell-2026",
        },
    )
    assert response["Location"] == "/"
    user = User.objects.get(email="kari@alpha.example")
    assert (user.role, user.language) == (Role.FINANCE, "nb")
    # A second submit of the same link creates nothing.
    again = Client(HTTP_HOST="alpha.localhost").post(
        f"/invitations/{token}/",
        {
            "full_name": "Kari",
            "language": "nb",
            "password": "fjord-fjell-2026",
            "password_again": "fjord-fjell-2026",
        },
    )
    assert again.status_code == 404
    assert User.objects.filter(email="kari@alpha.example").count() == 1


def test_inviting_an_existing_user_is_refused_next_to_the_email(admin_client, member):
    response = admin_client.post(
        "/settings/users/invite/", {"full_name": "Lars", "email": "LARS@alpha.example", "role": "sales"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["email"] == ["A user with this email already exists."]
    assert not Invitation.objects.exists()


def test_deactivation_asks_first_then_signs_the_user_out(admin_client, member):
    member_client = Client(HTTP_HOST="alpha.localhost")
    member_client.force_login(member)
    assert member_client.get("/").status_code == 200
    confirm = admin_client.get(f"/settings/users/{member.pk}/deactivate/")
    assert "They are signed out everywhere" in confirm.content.decode()
    member.refresh_from_db()
    assert member.is_active
    admin_client.post(f"/settings/users/{member.pk}/deactivate/")
    member.refresh_from_db()
    assert not member.is_active
    assert member_client.get("/").status_code == 302
    entry = AuditEntry.objects.get(action="user.deactivated")
    assert entry.before["is_active"] is True and entry.after["is_active"] is False
    admin_client.post(f"/settings/users/{member.pk}/reactivate/")
    member.refresh_from_db()
    assert member.is_active


def test_the_last_admin_cannot_be_demoted_or_deactivated(admin_client, admin_user):
    response = admin_client.post(f"/settings/users/{admin_user.pk}/", {"role": "sales"})
    assert response.status_code == 400
    assert "This is the last active admin." in response.content.decode()
    other_admin = user_make(Role.ADMIN)
    from commerce_hub.accounts.services.users import user_deactivate

    user_deactivate(user=other_admin, actor=admin_user)
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN and admin_user.is_active


def test_parallel_attempts_cannot_exceed_the_limit(tenant_alpha, fresh_cache):
    from concurrent.futures import ThreadPoolExecutor

    from django_tenants.utils import schema_context

    from commerce_hub.accounts.throttle import login_attempt_reserve

    prefix = fresh_cache.key_prefix  # caches are per thread; give each thread this test's own prefix

    def attempt(_n):
        from django.core.cache import cache

        cache.key_prefix = prefix
        with schema_context("t_alpha"):
            return login_attempt_reserve("lars@alpha.example", "203.0.113.7")[0]

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(30)))
    assert results.count(True) == 5 and results.count(False) == 25
