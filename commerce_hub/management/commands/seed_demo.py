import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_tenants.utils import schema_context, tenant_context

from commerce_hub import demo
from commerce_hub.site_urls import tenant_url
from commerce_hub.tenancy.models import Domain, Tenant
from commerce_hub.tenancy.services import domain_for, platform_bootstrap, schema_name_for, tenant_signup


class Command(BaseCommand):
    help = "Create the demo tenant with realistic Dutch and Norwegian data, or add N records of each kind (--scale)."

    def add_arguments(self, parser):
        parser.add_argument("--subdomain", default=demo.DEMO_SUBDOMAIN)
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            help="Add N companies, N contacts and N deals (set-based inserts), for benchmarks.",
        )
        parser.add_argument("--if-missing", action="store_true", help="Do nothing when the demo tenant exists.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, subdomain, scale, if_missing, no_progress, **options):
        if scale < 0:
            raise CommandError("--scale must be 0 or a positive number of records.")
        platform_bootstrap()
        schema = schema_name_for(subdomain)
        exists = Tenant.objects.filter(schema_name=schema).exists()
        if exists and if_missing and not scale:
            self.stdout.write(f"Demo tenant {domain_for(subdomain)} exists; leaving it as it is.")
            return
        started = time.perf_counter()
        context = demo.SeedContext(scale=scale, progress=not no_progress, stdout=self.stdout.write)
        # One transaction: the schema, its users and its data appear together or not at all, so an interrupted
        # run never leaves a half-built tenant that --if-missing would then keep forever.
        with transaction.atomic():
            if not exists:
                self._create_tenant(subdomain)
            # The tenant itself, not only its schema: seeders build links to the tenant's own domain.
            with tenant_context(Tenant.objects.get(schema_name=schema)):
                for name, seeder in demo.seeders():
                    self.stdout.write(f"  seeding {name} ...")
                    seeder(context)
        with tenant_context(Tenant.objects.get(schema_name=schema)):
            for name, seeder in demo.seeders(after_commit=True):
                self.stdout.write(f"  seeding {name} ...")
                seeder(context)
        domain = Domain.objects.get(tenant__schema_name=schema, is_primary=True).domain
        self.stdout.write(
            self.style.SUCCESS(f"Demo tenant ready at {tenant_url(domain)} in {time.perf_counter() - started:.1f} s")
        )

    def _create_tenant(self, subdomain):
        from commerce_hub.accounts.services.users import user_create

        admin_email, admin_name, _role, _lang = demo.DEMO_USERS[0]
        result = tenant_signup(
            company_name=demo.DEMO_COMPANY,
            subdomain=subdomain,
            admin_name=admin_name,
            email=admin_email,
            password=demo.DEMO_PASSWORD,
        )
        with schema_context(result.tenant.schema_name):
            for email, name, role, language in demo.DEMO_USERS[1:]:
                user_create(
                    email=email,
                    full_name=name,
                    password=demo.DEMO_PASSWORD,
                    role=role,
                    actor=None,
                    language=language,
                )
            from commerce_hub.organization.services import organization_profile_update

            organization_profile_update(
                actor=None,
                data={
                    "legal_name": demo.DEMO_COMPANY,
                    "address_line1": "Oudegracht 120",
                    "postal_code": "3511 AX",
                    "city": "Utrecht",
                    "country": "NL",
                    "vat_number": "NL725763863B01",
                    "registration_number": "30276498",
                    "default_currency": "EUR",
                    "timezone": "Europe/Amsterdam",
                    "language": "en",
                },
            )
