"""Tenant provisioning: the public signup and the platform bootstrap."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import get_public_schema_name, get_tenant_base_schema, quote_schema_name, schema_context

from commerce_hub.accounts.services.welcome import welcome_token_make
from commerce_hub.mail import email_queue
from commerce_hub.site_urls import tenant_url
from commerce_hub.tenancy.models import Domain, Tenant

RESERVED_SUBDOMAINS = frozenset(
    {"www", "public", "admin", "api", "static", "media", "mail", "smtp", "app", "help", "status", "template"}
)
SUBDOMAIN_MAX_LENGTH = 40
# The Celery task that tops up the pool of spare schemas (commerce_hub.tenancy.tasks).
SPARE_POOL_REFILL_TASK = "commerce_hub.tenancy.spare_pool_refill"
_SUBDOMAIN_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")


def subdomain_validate(subdomain: str) -> str:
    """Return the normalised subdomain or raise ValidationError with the reason a person can act on."""
    value = (subdomain or "").strip().lower()
    if not value:
        raise ValidationError(_("Choose a subdomain."), code="required")
    if len(value) > SUBDOMAIN_MAX_LENGTH:
        raise ValidationError(
            _("Use at most %(max)d characters (this one has %(length)d).")
            % {"max": SUBDOMAIN_MAX_LENGTH, "length": len(value)},
            code="too_long",
        )
    if len(value) < 3:
        raise ValidationError(_("Use at least 3 characters."), code="too_short")
    if not _SUBDOMAIN_RE.match(value) or "--" in value:
        raise ValidationError(
            _("Use only lowercase letters, digits and single hyphens, starting and ending with a letter or digit."),
            code="invalid",
        )
    if value in RESERVED_SUBDOMAINS:
        raise ValidationError(
            _("“%(value)s” is reserved. Choose another subdomain.") % {"value": value}, code="reserved"
        )
    if (
        Tenant.objects.filter(schema_name=schema_name_for(value)).exists()
        or Domain.objects.filter(domain=domain_for(value)).exists()
    ):
        raise ValidationError(_("“%(value)s” is already taken.") % {"value": value}, code="taken")
    return value


def schema_name_for(subdomain: str) -> str:
    # Subdomains cannot contain underscores, so this mapping is one-to-one.
    return "t_" + subdomain.replace("-", "_")


def domain_for(subdomain: str) -> str:
    return f"{subdomain}.{settings.BASE_DOMAIN}"


@dataclass(frozen=True)
class SignupResult:
    tenant: Tenant
    domain: str
    welcome_url: str
    email: str = ""


def tenant_signup(
    *, company_name: str, subdomain: str, admin_name: str, email: str, password: str, verify_email: bool = False
) -> SignupResult:
    """Provision a tenant by cloning the template schema, then create its first admin, all in one transaction.

    Two signups racing for one subdomain both pass validation; the unique schema name and domain let exactly one
    commit, and the other gets the same "taken" error as a sequential duplicate.
    """
    from commerce_hub.accounts.models import Role
    from commerce_hub.accounts.services.users import user_create
    from commerce_hub.organization.services import organization_profile_initialize

    subdomain = subdomain_validate(subdomain)
    try:
        with transaction.atomic():
            tenant = _spare_claim(
                schema_name=schema_name_for(subdomain), name=company_name.strip(), pending=verify_email
            )
            if tenant is None:
                tenant = Tenant(
                    schema_name=schema_name_for(subdomain),
                    name=company_name.strip(),
                    email_verification_pending=verify_email,
                )
                tenant.save()
            domain = Domain.objects.create(domain=domain_for(subdomain), tenant=tenant, is_primary=True)
            with schema_context(tenant.schema_name):
                user = user_create(email=email, full_name=admin_name, password=password, role=Role.ADMIN, actor=None)
                organization_profile_initialize(legal_name=company_name.strip())
                token = welcome_token_make(user)
                welcome_url = tenant_url(domain_for(subdomain), f"/welcome/{token}/")
                # The public signup opens the workspace only through this emailed link: it proves the address is
                # the admin's. (The demo seeder and benchmarks provision without it.)
                if verify_email:
                    email_queue(
                        to=user.email,
                        name="signup-verify",
                        context={"name": admin_name, "company": company_name.strip(), "url": welcome_url},
                        language=user.language,
                    )
    except IntegrityError as exc:
        raise ValidationError({"subdomain": _("“%(value)s” is already taken.") % {"value": subdomain}}) from exc
    transaction.on_commit(_spare_pool_refill, robust=True)
    return SignupResult(tenant=tenant, domain=domain.domain, welcome_url=welcome_url, email=user.email)


def _spare_claim(*, schema_name: str, name: str, pending: bool = False) -> Tenant | None:
    """Take a spare schema and rename it: a signup then costs a rename, not a clone of every table.

    skip_locked: two signups at once take two different spares (or one falls back to cloning). The rename is part
    of the signup's transaction, so a failed signup hands the spare back untouched.
    """
    spare = Tenant.objects.select_for_update(skip_locked=True).filter(is_spare=True).order_by("id").first()
    if spare is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"ALTER SCHEMA {quote_schema_name(spare.schema_name)} RENAME TO {quote_schema_name(schema_name)}"
        )
    Tenant.objects.filter(pk=spare.pk).update(
        schema_name=schema_name,
        name=name,
        is_spare=False,
        created_at=timezone.now(),
        email_verification_pending=pending,
    )
    spare.refresh_from_db()
    return spare


def spare_pool_fill(*, size: int | None = None) -> int:
    """Clone the template until `size` spares wait (TENANT_SPARE_POOL_SIZE). Returns how many were added."""
    size = settings.TENANT_SPARE_POOL_SIZE if size is None else size
    added = 0
    while Tenant.objects.filter(is_spare=True).count() < size:
        # "spare_" never collides with a tenant: every signup schema is "t_<subdomain>".
        Tenant(schema_name=f"spare_{secrets.token_hex(6)}", name="Spare", is_spare=True).save(verbosity=0)
        connection.set_schema_to_public()
        added += 1
    return added


def _spare_pool_refill() -> None:
    # Sent by name: the task module imports these services, so the services must not import it back.
    from commerce_hub.celery import app

    app.send_task(SPARE_POOL_REFILL_TASK)


def platform_bootstrap(*, base_domain: str | None = None) -> None:
    """Create the public tenant, its domain and the template tenant, once. Safe to run on every start."""
    base_domain = base_domain or settings.BASE_DOMAIN
    public, _created = Tenant.objects.get_or_create(
        schema_name=get_public_schema_name(), defaults={"name": "Commerce Hub"}
    )
    Domain.objects.get_or_create(domain=base_domain, defaults={"tenant": public, "is_primary": True})
    if not Tenant.objects.filter(schema_name=get_tenant_base_schema()).exists():
        Tenant(schema_name=get_tenant_base_schema(), name="Template", is_template=True).save(verbosity=0)
