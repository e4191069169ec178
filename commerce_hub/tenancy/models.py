import logging

from django.db import connection, models
from django_tenants.clone import CloneSchema
from django_tenants.models import DomainMixin, TenantMixin
from django_tenants.utils import get_tenant_base_schema, schema_exists

from commerce_hub.tenancy.provisioning import ProvisioningUnavailable, schema_provision

logger = logging.getLogger(__name__)


class Tenant(TenantMixin):
    """A business using Commerce Hub. Its data lives in its own Postgres schema."""

    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    # The template tenant is migrated like every other tenant and cloned by signup; nobody logs in to it.
    is_template = models.BooleanField(default=False)
    # A spare is a ready, migrated clone of the template waiting for a signup, which renames it (see services).
    is_spare = models.BooleanField(default=False, db_index=True)
    # Set by the public signup until the admin follows the link emailed to them: nobody signs in before that.
    email_verification_pending = models.BooleanField(default=False)

    auto_create_schema = True
    auto_drop_schema = True

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def create_schema(self, check_if_exists=False, sync_schema=True, verbosity=1):
        """Copy the template schema, tables, data and django_migrations rows included (see provisioning).

        django-tenants would also run `migrate_schemas --fake` after cloning, which builds the whole
        migration graph (hundreds of ms) to record what the cloned django_migrations rows already say.
        `migrate_schemas` keeps the template at the latest migration, so the clone is complete as it is.
        """
        base_schema = get_tenant_base_schema()
        if self.is_template or not sync_schema or not schema_exists(base_schema):
            return super().create_schema(check_if_exists, sync_schema, verbosity)
        if check_if_exists and schema_exists(self.schema_name):
            return False
        try:
            schema_provision(template=base_schema, schema_name=self.schema_name)
        except ProvisioningUnavailable as exc:
            # No usable pg_dump on this machine: the same schema, by the clone function (slower as tenants grow).
            logger.warning("Cloning %s the slow way: %s", self.schema_name, exc)
            CloneSchema().clone_schema(base_schema, self.schema_name, self.clone_mode)
            _constraint_names_restore(base_schema, self.schema_name)
        connection.set_schema_to_public()
        return True


# The clone re-creates each UNIQUE (and EXCLUDE) constraint under Postgres' default name (table_columns_key), so a
# later migration that drops a constraint by its declared name (billing_quote_signer_once) would fail in every
# cloned schema. One query finds each constraint of the clone whose definition matches the template's under another
# name; each is renamed back, so a clone is identical to the schema it was cloned from.
_MISNAMED_CONSTRAINTS = """
SELECT t.relname, k.conname, c.conname
FROM pg_constraint c
JOIN pg_class t ON t.oid = c.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = %(template)s
JOIN pg_namespace n2 ON n2.nspname = %(clone)s
JOIN pg_class t2 ON t2.relnamespace = n2.oid AND t2.relname = t.relname
JOIN pg_constraint k ON k.conrelid = t2.oid AND k.contype = c.contype
    AND pg_get_constraintdef(k.oid) = pg_get_constraintdef(c.oid)
WHERE c.contype IN ('u', 'x') AND k.conname <> c.conname
    AND NOT EXISTS (SELECT 1 FROM pg_constraint d WHERE d.conrelid = t2.oid AND d.conname = c.conname)
"""


def _constraint_names_restore(template: str, clone: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_MISNAMED_CONSTRAINTS, {"template": template, "clone": clone})
        renames = cursor.fetchall()
        for table, have, want in renames:
            cursor.execute(
                f"ALTER TABLE {connection.ops.quote_name(clone)}.{connection.ops.quote_name(table)} "
                f"RENAME CONSTRAINT {connection.ops.quote_name(have)} TO {connection.ops.quote_name(want)}"
            )


class Domain(DomainMixin):
    class Meta:
        ordering = ["domain"]


class InboundEndpoint(models.Model):
    """An address on the public site that a third party posts to (a payment processor's webhooks). Its id is
    unguessable and names the tenant, so the request is routed to the tenant's schema, where the tenant's own secret
    checks it, before anything in its body is trusted. `purpose` says which app owns it ("payments.stripe")."""

    public_id = models.CharField(max_length=64, unique=True)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="inbound_endpoints")
    purpose = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "purpose"], name="tenancy_endpoint_one_per_purpose")]

    def __str__(self):
        return f"{self.purpose} for {self.tenant_id}"
