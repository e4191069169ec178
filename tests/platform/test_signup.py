import re
import time

import pytest
from django.db import connection
from django.test import Client
from django_tenants.utils import schema_context, schema_exists

from commerce_hub.accounts.models import Role, User
from commerce_hub.organization.models import OrganizationProfile
from commerce_hub.tenancy.forms import form_started_token
from commerce_hub.tenancy.models import Domain, Tenant

GOOD = {
    # Shown a minute ago, as a person would have it (the signup refuses forms sent back within seconds).
    "form_started": form_started_token(time.time() - 60),
    "company_name": "Kaasmakerij Gouda B.V.",
    "subdomain": "kaasmakerij",
    "admin_name": "Marieke Jansen",
    "email": "Marieke@Kaasmakerij.example",
    "password": "stroopwafel-2026-x",
}


def _welcome_path(schema: str = "t_kaasmakerij") -> str:
    """The confirmation link the signup emailed to the new admin (stored in the new tenant's outbox)."""
    from commerce_hub.events.models import OutgoingEmail

    with schema_context(schema):
        email = OutgoingEmail.objects.get()
    connection.set_schema_to_public()
    assert email.subject == "Confirm your email to open your Commerce Hub workspace"
    return re.search(r"http://[a-z0-9-]+\.localhost:8000(/welcome/\S+/)", email.text).group(1)


@pytest.fixture
def public_client(db):
    connection.set_schema_to_public()
    return Client(HTTP_HOST="localhost")


def test_signup_clones_the_template_and_signs_the_admin_in(public_client):
    started = time.perf_counter()
    response = public_client.post("/signup/", GOOD)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert "We sent a link to marieke@kaasmakerij.example." in response.content.decode()
    tenant = Tenant.objects.get(schema_name="t_kaasmakerij")
    assert tenant.email_verification_pending
    assert tenant.name == "Kaasmakerij Gouda B.V."
    assert Domain.objects.get(tenant=tenant).domain == "kaasmakerij.localhost"
    assert schema_exists("t_kaasmakerij")
    with schema_context("t_kaasmakerij"):
        admin = User.objects.get()
        assert (admin.email, admin.full_name, admin.role) == (
            "marieke@kaasmakerij.example",
            "Marieke Jansen",
            Role.ADMIN,
        )
        assert admin.check_password("stroopwafel-2026-x")
        assert OrganizationProfile.objects.get().legal_name == "Kaasmakerij Gouda B.V."
        # The clone brings the migration history along: the schema is at the latest migration.
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM django_migrations WHERE app = 'accounts'")
            from pathlib import Path

            from commerce_hub.accounts import migrations

            on_disk = [p for p in Path(migrations.__file__).parent.glob("[0-9][0-9][0-9][0-9]_*.py")]
            assert cursor.fetchone()[0] == len(on_disk)
    # Provisioning stays well under a second (the figure is reported by bench/, not asserted to the ms).
    assert elapsed < 5

    welcome_path = _welcome_path()
    tenant_client = Client(HTTP_HOST="kaasmakerij.localhost")
    # Before the emailed link is followed, the admin cannot sign in even with the right password.
    refused = tenant_client.post("/login/", {"email": GOOD["email"], "password": GOOD["password"]})
    assert refused.status_code == 403 and "Confirm your email address first" in refused.content.decode()
    landed = tenant_client.get(welcome_path)
    assert landed.status_code == 302 and landed["Location"] == "/settings/company/"
    assert tenant_client.get("/settings/company/").status_code == 200
    tenant.refresh_from_db()
    assert not tenant.email_verification_pending
    # The link works once.
    second = Client(HTTP_HOST="kaasmakerij.localhost").get(welcome_path)
    assert second["Location"] == "/login/"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subdomain", "alpha", "“alpha” is already taken."),
        ("subdomain", "www", "“www” is reserved. Choose another subdomain."),
        ("subdomain", "admin", "“admin” is reserved. Choose another subdomain."),
        ("subdomain", "api", "“api” is reserved. Choose another subdomain."),
        (
            "subdomain",
            "Kaas_Makerij!",
            "Use only lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
        ),
        (
            "subdomain",
            "-kaas",
            "Use only lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
        ),
        ("subdomain", "k" * 41, "Use at most 40 characters (this one has 41)."),
        ("subdomain", "kk", "Use at least 3 characters."),
        ("subdomain", "", "This field is required."),
        ("company_name", "", "This field is required."),
        ("admin_name", "", "This field is required."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("password", "short", "This password is too short. It must contain at least 10 characters."),
        ("password", "1234567890123", "This password is entirely numeric."),
    ],
)
def test_signup_rejects_bad_input_next_to_the_field(public_client, field, value, message):
    before = Tenant.objects.count()
    response = public_client.post("/signup/", {**GOOD, field: value})
    assert response.status_code == 400
    assert message in response.context["form"].errors[field]
    assert message.replace("“", "&ldquo;") in response.content.decode() or message in response.content.decode()
    assert Tenant.objects.count() == before
    assert not schema_exists("t_kaasmakerij")


def test_signup_of_a_taken_subdomain_in_another_case_is_taken(public_client):
    response = public_client.post("/signup/", {**GOOD, "subdomain": "ALPHA"})
    assert response.context["form"].errors["subdomain"] == ["“alpha” is already taken."]


def test_signup_page_renders_on_the_public_site_only(public_client):
    assert public_client.get("/signup/").status_code == 200
    assert Client(HTTP_HOST="alpha.localhost").get("/signup/").status_code == 404


def test_unknown_tenant_domain_is_404(db):
    assert Client(HTTP_HOST="nobody.localhost").get("/").status_code == 404


def test_password_like_the_admins_name_is_refused_next_to_the_password(public_client):
    response = public_client.post(
        "/signup/", {**GOOD, "email": "marieke.jansen@kaas.example", "password": "mariekejansen"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["password"] == ["The password is too similar to the email."]
    assert not Tenant.objects.filter(schema_name="t_kaasmakerij").exists()


def test_a_welcome_link_from_another_tenant_signs_nobody_in(public_client):
    # Both admins are user 1 of their own schema and have never signed in: the link must still not cross over.
    first = public_client.post("/signup/", {**GOOD, "subdomain": "victim-co"})
    second = public_client.post("/signup/", {**GOOD, "subdomain": "evil-co", "email": "boss@evil.example"})
    assert first.status_code == second.status_code == 200
    evil_path = _welcome_path("t_evil_co")
    victim = Client(HTTP_HOST="victim-co.localhost")
    response = victim.get(evil_path)
    assert response["Location"] == "/login/"
    assert victim.get("/settings/users/").status_code == 302  # still signed out


def test_a_service_level_signup_failure_is_shown_on_the_form(public_client, monkeypatch):
    from django.core.exceptions import ValidationError

    from commerce_hub.tenancy import views

    def refuse(**kwargs):
        raise ValidationError("Provisioning is paused for maintenance.")

    monkeypatch.setattr(views, "tenant_signup", refuse)
    response = public_client.post("/signup/", GOOD)
    assert response.status_code == 400
    assert "Provisioning is paused for maintenance." in response.content.decode()


def test_signup_renames_a_spare_schema_when_one_is_ready(public_client, django_capture_on_commit_callbacks):
    from commerce_hub.tenancy.services import spare_pool_fill

    assert spare_pool_fill(size=1) == 1
    spare = Tenant.objects.get(is_spare=True)
    spare_schema = spare.schema_name
    assert spare_schema.startswith("spare_") and schema_exists(spare_schema)
    with django_capture_on_commit_callbacks() as callbacks:
        response = public_client.post("/signup/", GOOD)
    assert response.status_code == 200
    tenant = Tenant.objects.get(pk=spare.pk)  # the same row and schema, renamed
    assert (tenant.schema_name, tenant.name, tenant.is_spare) == ("t_kaasmakerij", "Kaasmakerij Gouda B.V.", False)
    assert tenant.email_verification_pending
    assert not schema_exists(spare_schema) and schema_exists("t_kaasmakerij")
    assert not Tenant.objects.filter(is_spare=True).exists()
    with schema_context("t_kaasmakerij"):
        assert User.objects.get().email == "marieke@kaasmakerij.example"
    # After commit, the pool is topped up again by a task.
    assert any("_spare_pool_refill" in getattr(c, "__name__", "") for c in callbacks)


def test_a_failed_signup_gives_the_spare_back(public_client, monkeypatch):
    from commerce_hub.tenancy.services import spare_pool_fill

    spare_pool_fill(size=1)
    spare_schema = Tenant.objects.get(is_spare=True).schema_name
    from commerce_hub.accounts.services import users

    def broken(**kwargs):
        raise RuntimeError("mail server on fire")

    monkeypatch.setattr(users, "user_create", broken)
    import pytest as _pytest

    with _pytest.raises(RuntimeError):
        public_client.post("/signup/", GOOD)
    assert Tenant.objects.get(is_spare=True).schema_name == spare_schema
    assert schema_exists(spare_schema) and not schema_exists("t_kaasmakerij")


def test_a_filled_honeypot_creates_nothing(public_client):
    response = public_client.post("/signup/", {**GOOD, "website": "http://spam.example"})
    assert response.status_code == 400
    assert "Your workspace could not be created." in response.content.decode()
    assert not Tenant.objects.filter(schema_name="t_kaasmakerij").exists()


@pytest.mark.parametrize("started", ["", "forged-value", "now"])
def test_a_form_sent_back_too_fast_or_with_a_forged_start_creates_nothing(public_client, started):
    value = form_started_token() if started == "now" else started
    response = public_client.post("/signup/", {**GOOD, "form_started": value})
    assert response.status_code == 400
    assert "That was faster than we expected." in response.content.decode()
    assert not Tenant.objects.filter(schema_name="t_kaasmakerij").exists()


def test_signup_is_rate_limited_per_client_address(public_client):
    for n in range(5):
        public_client.post("/signup/", {**GOOD, "subdomain": "x", "email": f"p{n}@example.com"})
    response = public_client.post("/signup/", GOOD)
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert not Tenant.objects.filter(schema_name="t_kaasmakerij").exists()


def test_provisioning_outside_the_public_form_opens_at_once(db):
    """The demo seeder and benchmarks provision without an emailed confirmation: their admins sign in directly."""
    from commerce_hub.tenancy.services import tenant_signup

    fields = {k: v for k, v in GOOD.items() if k != "form_started"}
    result = tenant_signup(**fields)
    connection.set_schema_to_public()
    assert not Tenant.objects.get(pk=result.tenant.pk).email_verification_pending
    response = Client(HTTP_HOST="kaasmakerij.localhost").post(
        "/login/", {"email": GOOD["email"], "password": GOOD["password"]}
    )
    assert response.status_code == 302


def test_a_cloned_schema_keeps_every_constraint_name_of_the_template(tenant_alpha):
    """A migration drops a constraint by the name it declared; a clone under Postgres' default names would make it
    fail in every tenant (the clone re-creates UNIQUE constraints as <table>_<columns>_key)."""
    query = """
        SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
        WHERE n.nspname = %s ORDER BY 1, 2
    """
    with connection.cursor() as cursor:
        cursor.execute(query, ["tenant_template"])
        template = cursor.fetchall()
        cursor.execute(query, [tenant_alpha.schema_name])
        clone = cursor.fetchall()

    def same_shape(rows, schema):  # a definition names other tables with their schema unless it is on the path
        return [(table, name, definition.replace(f"{schema}.", "")) for table, name, definition in rows]

    assert ("billing_quotesigner", "billing_quote_signer_once", "UNIQUE (publication_id, email)") in clone
    assert same_shape(clone, tenant_alpha.schema_name) == same_shape(template, "tenant_template")
