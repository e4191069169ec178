from django.core.management.base import BaseCommand

from commerce_hub.tenancy.services import platform_bootstrap, spare_pool_fill


class Command(BaseCommand):
    help = "Create the public tenant, its domain and the template tenant that signup clones (idempotent)."

    def handle(self, *args, **options):
        platform_bootstrap()
        added = spare_pool_fill()
        self.stdout.write(f"Platform ready ({added} spare tenant schemas prepared for signups).")
