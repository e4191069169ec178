from django.core.management.base import BaseCommand

from commerce_hub.tenancy.services import platform_bootstrap


class Command(BaseCommand):
    help = "Create the public tenant, its domain and the template tenant that signup clones (idempotent)."

    def handle(self, *args, **options):
        platform_bootstrap()
        self.stdout.write("Platform ready.")
